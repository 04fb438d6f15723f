import { setMaxListeners } from "node:events";
import { Readable } from "node:stream";
import { LRUCache } from "lru-cache";
import { assertVisible as assertVisibleBucket, withoutHidden } from "../bucket-ops/listing.js";
import { mapWithConcurrency } from "../concurrency.js";
import type { LogicalEntry, LogicalListing, LogicalObject } from "../deltaglider/catalogue.js";
import type { DeltaGlider } from "../deltaglider/index.js";
import { baseName, DELTA_SUFFIX } from "../deltaglider/keys.js";
import type { UploadResult } from "../deltaglider/upload.js";
import { GliderError, isGliderError } from "../errors.js";
import type { LeasedChunk } from "../leased-chunks.js";
import type { RateLimiter } from "../rate-limit.js";
import { limitBytes } from "../send/transfers/streams.js";
import { createSigner } from "../signing.js";
import { createSingleFlightCache } from "../single-flight.js";
import { compareKeys } from "../storage/keys.js";
import type { ObjectStore, PutBody } from "../storage/object-store.js";
import { checkLimit, normalisePrefix, type ObjectQuery, type SortField, type SortOrder } from "./query.js";

/** One row of a folder listing, as both front doors show it. */
export interface ObjectRow {
  bucket: string;
  key: string;
  name: string;
  originalBytes: number;
  storedBytes: number;
  compressed: boolean;
  modified: Date;
  savingsPct: number;
  physicalKey: string;
  etag: string;
}

export interface ObjectPage {
  objects: ObjectRow[];
  /** Every child folder of the prefix, sorted, on every page. */
  commonPrefixes: string[];
  /** Present when more objects follow. */
  cursor?: string;
  /** The cursor after the page's row `index` (Relay edges); signed only when asked for. */
  cursorAt(index: number): string;
  /** Objects matching the filters across all pages. */
  total: number;
}

export interface ObjectDetails extends ObjectRow {
  sha256?: string;
  kind: LogicalObject["kind"];
  physicalKeys: string[];
  acceptRanges: false;
  /** The physical object's user metadata (DeltaGlider's `dg-*` keys among them) and content type. */
  metadata: Record<string, string>;
  contentType?: string;
}

/** One file of a multi-file upload, already received in full (a spool file), and its outcome. */
export interface UploadFile {
  /** Path relative to the upload's prefix, as the client named it. */
  relativePath: string;
  open(): NodeJS.ReadableStream & AsyncIterable<Uint8Array>;
  /** Set when the file could not be received (too many files, a name we refuse): reported, never stored. */
  rejected?: GliderError;
}

export type UploadFileOutcome =
  | { relativePath: string; key: string; ok: true; result: UploadResult }
  | { relativePath: string; key: string; ok: false; error: GliderError };

/** Most keys one bulk delete may name. */
export const BULK_DELETE_MAX = 1000;

export interface ObjectsServiceOptions {
  /** Signs cursors; shared with download tokens through per-purpose keys. */
  secret: string;
  /** Buckets never shown (the Send system bucket). */
  hiddenBuckets: readonly string[];
  headConcurrency?: number;
  /** RFC-DG-UI-0002 list/meta timeout. @default 60 s */
  timeoutMs?: number;
  listCache?: { ttlMs: number; max: number };
  metaCache?: { ttlMs: number; max: number };
  /** Called after uploads and deletes (savings figures of the bucket are stale then; other instances are told). */
  onChange?: (bucket: string, key?: string) => void;
  /** Called after a successful upload (the savings index records the new physical object). */
  onUploaded?: (bucket: string, result: UploadResult) => void;
  /** Called after a successful delete of a logical key. */
  onDeleted?: (bucket: string, key: string) => void;
  limiter?: RateLimiter;
  /** Largest upload in bytes, counted while it streams (UPLOAD_MAX_BYTES). @default 5 GiB */
  uploadMaxBytes?: number;
  /** Clock (ms) of the listing and bucket caches; tests move it instead of sleeping. @default performance.now */
  now?: () => number;
}

interface Tuple {
  entry: LogicalEntry;
  /** Present when the view needed every row's metadata (size and savings sorts). */
  row?: ObjectRow;
  v: number | string;
  k: string;
}

interface SortedView {
  listing: LogicalListing;
  tuples: Tuple[];
  direction: 1 | -1;
}

interface CursorPayload {
  /** Fingerprint of the query the cursor belongs to. */
  q: string;
  /** Sort value and key of the last row returned. */
  v: number | string;
  k: string;
}

/**
 * The key of an uploaded file: `prefix/relativePath` with empty, `.` and `..` segments dropped and `\\` read as `/`
 * (browsers send folder uploads as relative paths); undefined when nothing is left.
 */
export function uploadKey(prefix: string, relativePath: string): string | undefined {
  const clean = (path: string) =>
    path
      .replace(/\\/g, "/")
      .split("/")
      .map((s) => s.trim())
      .filter((s) => s && s !== "." && s !== "..");
  const name = clean(relativePath);
  if (name.length === 0) return undefined;
  return [...clean(prefix), ...name].join("/");
}

function savingsOf(original: number, stored: number): number {
  if (original <= 0) return 0;
  return Math.round((1 - stored / original) * 10_000) / 100;
}

function sortValue(row: ObjectRow, sort: SortField): number | string {
  switch (sort) {
    case "name":
      return row.key;
    case "size":
      return row.originalBytes;
    case "modified":
      return row.modified.getTime();
    case "savings_pct":
      return row.savingsPct;
  }
}

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareKeys(String(a), String(b));
}

/** The browsing core shared by REST and GraphQL: cached logical listings, sorting, filters, signed cursors. */
/** A logical object's original bytes, integrity-checked as they stream. */
export interface ObjectStream {
  /** The logical key (its last segment names the file). */
  key: string;
  size: number;
  /** sha256 of the original: the logical ETag. */
  sha256: string | undefined;
  /** The bytes, zero-copy: release each chunk once written (see leased-chunks.ts). Use this or `body`, once. */
  chunks: AsyncIterable<LeasedChunk>;
  readonly body: Readable;
}

export function createObjectsService(store: ObjectStore, deltaglider: DeltaGlider, options: ObjectsServiceOptions) {
  const cursors = createSigner(options.secret, "cursor");
  const timeoutMs = options.timeoutMs ?? 60_000;
  const headConcurrency = options.headConcurrency ?? 16;
  // Single-flight: when a listing expires under load, one LIST refreshes it and everyone else keeps the old one.
  const listings = createSingleFlightCache<LogicalListing>({
    max: options.listCache?.max ?? 100,
    ttlMs: options.listCache?.ttlMs ?? 30_000,
    now: options.now,
  });
  const metas = new LRUCache<string, { etag: string; object: LogicalObject }>({
    max: options.metaCache?.max ?? 5000,
    ttl: options.metaCache?.ttlMs ?? 300_000,
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });

  /** RFC-DG-UI-0002: list and metadata calls give up after 60 s with `timeout`. */
  async function withTimeout<T>(signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timer = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timer]) : timer;
    // Every concurrent HEAD of a listing listens on this one signal.
    setMaxListeners(0, combined);
    try {
      return await fn(combined);
    } catch (error) {
      if (timer.aborted) {
        throw new GliderError(
          "timeout",
          `the object store did not answer within ${timeoutMs / 1000} s`,
          {},
          { cause: error },
        );
      }
      throw error;
    }
  }

  function assertVisible(bucket: string) {
    assertVisibleBucket(bucket, options.hiddenBuckets);
  }

  async function folder(bucket: string, prefix: string, signal: AbortSignal): Promise<LogicalListing> {
    // The LIST belongs to no caller (an aborted first caller must not fail the others): it has its own deadline.
    const listing = await listings.get(
      `${bucket}\0${prefix}`,
      () => deltaglider.list(bucket, prefix, AbortSignal.timeout(timeoutMs)),
      signal,
    );
    return listing as LogicalListing;
  }

  /** HEADs in flight, so concurrent listings of one folder (aliases, parallel requests) read each object once. */
  const describing = new Map<string, Promise<LogicalObject>>();

  async function describe(bucket: string, entries: readonly LogicalEntry[], signal: AbortSignal) {
    return mapWithConcurrency(entries, headConcurrency, async (entry) => {
      const id = `${bucket}\0${entry.physicalKey}`;
      const cached = metas.get(id);
      if (cached && cached.etag === entry.etag) return cached.object;
      const pendingId = `${id}\0${entry.etag}`;
      let pending = describing.get(pendingId);
      if (!pending) {
        pending = deltaglider.catalogue.describe(bucket, entry, signal).then((object) => {
          metas.set(id, { etag: object.etag, object });
          return object;
        });
        describing.set(pendingId, pending);
        pending.finally(() => describing.delete(pendingId)).catch(() => undefined);
      }
      return pending;
    });
  }

  function rowOf(bucket: string, entry: LogicalEntry, originalBytes: number): ObjectRow {
    return {
      bucket,
      key: entry.key,
      name: baseName(entry.key),
      originalBytes,
      storedBytes: entry.storedBytes,
      compressed: entry.compressed,
      modified: entry.modified,
      savingsPct: savingsOf(originalBytes, entry.storedBytes),
      physicalKey: entry.physicalKey,
      etag: entry.etag,
    };
  }

  /** Rows with original sizes: deltas need their metadata (a HEAD each, cached), direct objects do not. */
  async function rows(bucket: string, entries: readonly LogicalEntry[], signal: AbortSignal) {
    const deltas = entries.filter((e) => e.compressed);
    const described = new Map((await describe(bucket, deltas, signal)).map((o) => [o.physicalKey, o.originalBytes]));
    return entries.map((e) =>
      rowOf(bucket, e, e.compressed ? (described.get(e.physicalKey) ?? e.storedBytes) : e.storedBytes),
    );
  }

  /**
   * Sorted views of a cached folder listing, per query shape: a warm page is a binary search plus the page's rows,
   * not a filter and sort of the whole folder. A view is valid only for the listing object it was built from.
   */
  const views = new LRUCache<string, SortedView>({ max: 64 });

  async function sortedView(
    query: ObjectQuery,
    shape: { prefix: string; sort: SortField; order: SortOrder; search?: string; fingerprint: string },
    signal: AbortSignal,
  ): Promise<SortedView> {
    const listing = await folder(query.bucket, shape.prefix, signal);
    const cached = views.get(shape.fingerprint);
    if (cached && cached.listing === listing) return cached;
    const matching = listing.objects.filter(
      (o) =>
        (query.compressed === undefined || o.compressed === query.compressed) &&
        (!shape.search || baseName(o.key).toLowerCase().includes(shape.search)),
    );
    // Name and modified come from LIST alone; size and savings need every delta's metadata (HEADs, cached).
    const needsAllSizes = shape.sort === "size" || shape.sort === "savings_pct";
    const described = needsAllSizes ? await rows(query.bucket, matching, signal) : undefined;
    const tuples: Tuple[] = matching.map((entry, i) => {
      const row = described?.[i];
      const v =
        shape.sort === "name"
          ? entry.key
          : shape.sort === "modified"
            ? entry.modified.getTime()
            : sortValue(row as ObjectRow, shape.sort);
      return { entry, row, v, k: entry.key };
    });
    const direction: 1 | -1 = shape.order === "asc" ? 1 : -1;
    tuples.sort((a, b) => direction * (compareValues(a.v, b.v) || compareKeys(a.k, b.k)));
    const view = { listing, tuples, direction };
    views.set(shape.fingerprint, view);
    return view;
  }

  async function listObjects(query: ObjectQuery, client?: string, signal?: AbortSignal): Promise<ObjectPage> {
    if (client) await options.limiter?.take(client, "listing");
    assertVisible(query.bucket);
    const prefix = normalisePrefix(query.prefix);
    const limit = checkLimit(query.limit);
    const sort = query.sort ?? "modified";
    const order: SortOrder = query.order ?? "desc";
    const search = query.search?.toLowerCase();
    const fingerprint = JSON.stringify([query.bucket, prefix, sort, order, query.compressed ?? null, search ?? null]);
    let after: CursorPayload | undefined;
    if (query.cursor) {
      after = cursors.verify<CursorPayload>(query.cursor);
      if (!after || typeof after.k !== "string" || after.q !== fingerprint) {
        throw new GliderError("invalid_cursor", "cursor is not valid for this listing", { parameter: "cursor" });
      }
    }
    if (query.fresh && !after) listings.delete(`${query.bucket}\0${prefix}`);
    return withTimeout(signal, async (s) => {
      const view = await sortedView(query, { prefix, sort, order, search, fingerprint }, s);
      const { tuples, direction } = view;
      // First position after the cursor's (value, key): binary search over the view's total order.
      let start = 0;
      if (after) {
        const cursor = after;
        let hi = tuples.length;
        while (start < hi) {
          const mid = (start + hi) >>> 1;
          const t = tuples[mid];
          if (direction * (compareValues(t.v, cursor.v) || compareKeys(t.k, cursor.k)) <= 0) start = mid + 1;
          else hi = mid;
        }
      }
      const slice = tuples.slice(start, start + limit);
      const pageRows = slice.every((t) => t.row)
        ? slice.map((t) => t.row as ObjectRow)
        : await rows(
            query.bucket,
            slice.map((t) => t.entry),
            s,
          );
      const cursorAt = (index: number) =>
        cursors.sign({ q: fingerprint, v: slice[index].v, k: slice[index].k } satisfies CursorPayload);
      const more = start + limit < tuples.length;
      return {
        objects: pageRows,
        commonPrefixes: view.listing.commonPrefixes,
        cursor: more && slice.length ? cursorAt(slice.length - 1) : undefined,
        cursorAt,
        total: tuples.length,
      };
    });
  }

  /**
   * Whether a visible bucket exists; positive answers are cached like listings (buckets are not deleted here), and
   * one HeadBucket answers every request that asks while it runs (no stampede when the entry expires).
   */
  const knownBuckets = createSingleFlightCache<true>({
    max: 1000,
    ttlMs: options.listCache?.ttlMs ?? 30_000,
    now: options.now,
  });
  async function bucketExists(bucket: string, signal?: AbortSignal): Promise<boolean> {
    if (options.hiddenBuckets.includes(bucket)) return false;
    const known = await knownBuckets.get(
      bucket,
      async () => ((await store.bucketExists(bucket, AbortSignal.timeout(timeoutMs))) ? true : undefined),
      signal,
    );
    return known === true;
  }

  async function metadata(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectDetails> {
    assertVisible(bucket);
    return withTimeout(signal, async (s) => {
      const object = await deltaglider.resolve(bucket, key, s);
      metas.set(`${bucket}\0${object.physicalKey}`, { etag: object.etag, object });
      return detailsOf(bucket, object);
    });
  }

  /** Full metadata of a listed row (sha256, kind): served from the metadata cache when the listing already read it. */
  async function details(bucket: string, row: ObjectRow, signal?: AbortSignal): Promise<ObjectDetails> {
    const entry: LogicalEntry = {
      key: row.key,
      physicalKey: row.physicalKey,
      compressed: row.compressed,
      storedBytes: row.storedBytes,
      modified: row.modified,
      etag: row.etag,
    };
    const [object] = await withTimeout(signal, (s) => describe(bucket, [entry], s));
    return detailsOf(bucket, object);
  }

  function detailsOf(bucket: string, object: LogicalObject): ObjectDetails {
    return {
      ...rowOf(bucket, object, object.originalBytes),
      sha256: object.sha256,
      kind: object.kind,
      physicalKeys: object.physicalKeys,
      acceptRanges: false as const,
      metadata: object.metadata,
      contentType: object.contentType,
    };
  }

  /** Drops this process's cached listings (and the key's metadata) of a bucket; other instances call it too. */
  function forget(bucket: string, key?: string) {
    listings.deleteWhere((id) => id.startsWith(`${bucket}\0`));
    if (!key) knownBuckets.delete(bucket);
    if (key) {
      metas.delete(`${bucket}\0${key}`);
      metas.delete(`${bucket}\0${key}${DELTA_SUFFIX}`);
    }
  }

  /** Drops every cached listing and metadata entry (shared state was unreachable: changes may have been missed). */
  function forgetAll() {
    listings.deleteWhere(() => true);
    metas.clear();
  }

  function invalidate(bucket: string, key?: string) {
    forget(bucket, key);
    options.onChange?.(bucket, key);
  }

  const uploadMaxBytes = options.uploadMaxBytes ?? 5 * 1024 ** 3;

  async function upload(bucket: string, key: string, body: PutBody, signal?: AbortSignal): Promise<UploadResult> {
    assertVisible(bucket);
    const size = body instanceof Uint8Array ? body.length : undefined;
    if (size !== undefined && size > uploadMaxBytes) {
      throw new GliderError("payload_too_large", `upload exceeds the ${uploadMaxBytes}-byte limit`, {
        max_bytes: uploadMaxBytes,
      });
    }
    // Counted as it streams: the byte after the limit fails the spool, before anything reaches storage.
    const limited =
      size === undefined
        ? limitBytes(body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>), uploadMaxBytes)
        : undefined;
    try {
      const result = await deltaglider.upload(bucket, key, limited?.body ?? body, signal);
      options.onUploaded?.(bucket, result);
      return result;
    } catch (error) {
      if (limited?.exceeded()) {
        throw new GliderError("payload_too_large", `upload exceeds the ${uploadMaxBytes}-byte limit`, {
          max_bytes: uploadMaxBytes,
        });
      }
      throw error;
    } finally {
      invalidate(bucket, key);
    }
  }

  async function remove(bucket: string, key: string, signal?: AbortSignal) {
    assertVisible(bucket);
    try {
      const result = await deltaglider.deleteObject(bucket, key, signal);
      options.onDeleted?.(bucket, key);
      return result;
    } finally {
      invalidate(bucket, key);
    }
  }

  /**
   * Stores each received file under `prefix/relativePath`, one after the other; a file that fails (a refused name,
   * a storage error) is reported in its outcome and the others go on. Uploads never leave a partial object: the
   * uploader writes an object only once its bytes are complete and verified.
   */
  async function uploadFiles(
    bucket: string,
    prefix: string,
    files: readonly UploadFile[],
    signal?: AbortSignal,
  ): Promise<UploadFileOutcome[]> {
    assertVisible(bucket);
    if (!(await bucketExists(bucket, signal))) {
      throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
    }
    const outcomes: UploadFileOutcome[] = [];
    for (const file of files) {
      const key = uploadKey(prefix, file.relativePath);
      if (file.rejected || !key) {
        outcomes.push({
          relativePath: file.relativePath,
          key: key ?? file.relativePath,
          ok: false,
          error: file.rejected ?? new GliderError("invalid_key", `file name "${file.relativePath}" is empty`, {}),
        });
        continue;
      }
      try {
        const result = await upload(bucket, key, file.open() as never, signal);
        outcomes.push({ relativePath: file.relativePath, key, ok: true, result });
      } catch (error) {
        signal?.throwIfAborted();
        const failure = isGliderError(error)
          ? error
          : new GliderError("internal", "the file could not be stored", {}, { cause: error });
        if (failure.code === "internal" || failure.code === "storage_unavailable" || failure.code === "sdk_error") {
          // A store that is down fails every file alike: stop and let the caller see it.
          if (outcomes.every((o) => !o.ok)) throw failure;
        }
        outcomes.push({ relativePath: file.relativePath, key, ok: false, error: failure });
      }
    }
    return outcomes;
  }

  /** Deletes each key (four at a time); a failing key is reported and the others go on. */
  async function bulkDelete(bucket: string, keys: readonly string[], signal?: AbortSignal) {
    assertVisible(bucket);
    if (keys.length > BULK_DELETE_MAX) {
      throw new GliderError("invalid_request", `at most ${BULK_DELETE_MAX} keys per request`, { parameter: "keys" });
    }
    if (!(await bucketExists(bucket, signal))) {
      throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
    }
    const results = await mapWithConcurrency([...new Set(keys)], 4, async (key) => {
      try {
        await remove(bucket, key, signal);
        return { key, ok: true as const };
      } catch (error) {
        signal?.throwIfAborted();
        return { key, ok: false as const, error: isGliderError(error) ? error : new GliderError("internal", "failed") };
      }
    });
    return {
      deleted: results.filter((r) => r.ok).map((r) => r.key),
      errors: results.flatMap((r) => (r.ok ? [] : [{ key: r.key, code: r.error.code, message: r.error.message }])),
    };
  }

  /** `likelyDelta`: the key was a delta when last resolved (download tokens record it): one round trip, not two. */
  async function open(
    bucket: string,
    key: string,
    signal?: AbortSignal,
    hint: { likelyDelta?: boolean } = {},
  ): Promise<ObjectStream> {
    assertVisible(bucket);
    const r = await deltaglider.open(bucket, key, signal, hint);
    return {
      chunks: r.chunks,
      get body() {
        return r.body;
      },
      size: r.size,
      sha256: r.sha256,
      key: r.object.key,
    };
  }

  async function buckets(signal?: AbortSignal) {
    return withoutHidden(await store.listBuckets(signal), options.hiddenBuckets);
  }

  return {
    listObjects,
    bucketExists,
    metadata,
    details,
    upload,
    uploadFiles,
    bulkDelete,
    delete: remove,
    open,
    buckets,
    invalidate,
    forget,
    forgetAll,
    assertVisible,
  };
}

export type ObjectsService = ReturnType<typeof createObjectsService>;

// Query parsing shared by REST and GraphQL: part of the objects service's interface.
export { parseCompressed, parseSort } from "./query.js";
