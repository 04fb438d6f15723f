import { Readable } from "node:stream";
import { assertVisible as assertVisibleBucket, withoutHidden } from "../bucket-ops/listing.js";
import { mapWithConcurrency } from "../concurrency.js";
import type { LogicalEntry, LogicalObject } from "../deltaglider/catalogue.js";
import type { DeltaGlider } from "../deltaglider/index.js";
import type { UploadResult } from "../deltaglider/upload.js";
import { GliderError, isGliderError } from "../errors.js";
import type { RateLimiter } from "../rate-limit.js";
import type { IndexEntry } from "../savings/index-store.js";
import { limitBytes } from "../send/transfers/streams.js";
import { createSingleFlightCache } from "../single-flight.js";
import type { ObjectStore, PutBody } from "../storage/object-store.js";
import { createKnownSizes } from "./known-sizes.js";
import { createObjectListing } from "./listing.js";
import { createMetadataCache } from "./metadata-cache.js";
import type { ObjectQuery } from "./query.js";
import {
  BULK_DELETE_MAX,
  type ObjectDetails,
  type ObjectPage,
  type ObjectRow,
  type ObjectStream,
  type ObjectsService,
  type UploadFile,
  type UploadFileOutcome,
} from "./types.js";
import { withTimeout } from "./with-timeout.js";

export type {
  BulkDeleteResult,
  ObjectDetails,
  ObjectPage,
  ObjectRow,
  ObjectStream,
  ObjectsService,
  UploadFile,
  UploadFileOutcome,
} from "./types.js";
export { BULK_DELETE_MAX } from "./types.js";

export interface ObjectsServiceOptions {
  /** Signs cursors; shared with download tokens through per-purpose keys. */
  secret: string;
  /** Buckets never shown (the Send system bucket). */
  hiddenBuckets: readonly string[];
  /** HEADs in flight for deltas' metadata (HEAD_CONCURRENCY). @default 16 */
  headConcurrency?: number;
  /**
   * HEADs in flight for the page a caller waits on, once its rows are known (a cold modified-sorted page can only
   * start them after the whole LIST walk). @default 3 × headConcurrency capped at 48 (the SDK's agent keeps 50
   * sockets), never below headConcurrency
   */
  pageHeadConcurrency?: number;
  /** RFC-DG-UI-0002 list/meta timeout. @default 60 s */
  timeoutMs?: number;
  listCache?: { ttlMs: number; max: number };
  metaCache?: { ttlMs: number; max: number };
  /**
   * The bucket's savings index (the savings service's), read once per bucket and listing TTL: a delta whose entry
   * matches its LIST entry takes its original size from it instead of a HEAD. Without it, every delta on a page is
   * HEADed once.
   */
  savingsIndex?: (bucket: string) => Promise<ReadonlyMap<string, IndexEntry> | undefined>;
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

/**
 * The default ceiling of a page's HEADs in flight. On RGW (2-core VM, 165 deltas of a 3,000-object folder, 15
 * interleaved rounds) the batch took a median 356 ms at 16 in flight and 309 ms at 48: it is bound by CPU (about
 * 1.3 ms of the Glider process's and 0.7 ms of radosgw's per HEAD), and fewer, fuller rounds cost less of both. The
 * SDK's HTTP agent opens at most 50 sockets, so more would only queue inside the client.
 */
const PAGE_HEAD_CONCURRENCY_MAX = 48;

/** The browsing core shared by REST, GraphQL and the CLI (see {@link ObjectsService}). */
export function createObjectsService(
  store: ObjectStore,
  deltaglider: DeltaGlider,
  options: ObjectsServiceOptions,
): ObjectsService {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const headConcurrency = options.headConcurrency ?? 16;
  const metas = createMetadataCache({
    catalogue: deltaglider.catalogue,
    headConcurrency,
    max: options.metaCache?.max ?? 5000,
    ttlMs: options.metaCache?.ttlMs ?? 300_000,
    now: options.now,
  });
  const knownSizes = options.savingsIndex
    ? createKnownSizes({ load: options.savingsIndex, ttlMs: options.listCache?.ttlMs, now: options.now })
    : undefined;
  const listing = createObjectListing({
    list: (bucket, prefix, signal, onPage) => deltaglider.list(bucket, prefix, signal, onPage),
    metadata: metas,
    pageHeadConcurrency:
      options.pageHeadConcurrency ??
      Math.max(headConcurrency, Math.min(3 * headConcurrency, PAGE_HEAD_CONCURRENCY_MAX)),
    knownSizes,
    secret: options.secret,
    timeoutMs,
    listCache: options.listCache,
    now: options.now,
  });

  function assertVisible(bucket: string) {
    assertVisibleBucket(bucket, options.hiddenBuckets);
  }

  async function listObjects(query: ObjectQuery, client?: string, signal?: AbortSignal): Promise<ObjectPage> {
    if (client) await options.limiter?.take(client, "listing");
    assertVisible(query.bucket);
    return listing.page(query, signal);
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
    return withTimeout(timeoutMs, signal, async (s) => {
      const object = await deltaglider.resolve(bucket, key, s);
      metas.remember(bucket, object);
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
    const [object] = await withTimeout(timeoutMs, signal, (s) => metas.describe(bucket, [entry], s));
    return detailsOf(bucket, object);
  }

  function detailsOf(bucket: string, object: LogicalObject): ObjectDetails {
    return {
      ...listing.rowOf(bucket, object, object.originalBytes),
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
    listing.forget(bucket);
    // Not after each upload: the savings service updates its index itself, and entries are checked against LIST.
    if (!key) knownSizes?.forget(bucket);
    if (!key) knownBuckets.delete(bucket);
    if (key) metas.forget(bucket, key);
  }

  /** Drops every cached listing and metadata entry (shared state was unreachable: changes may have been missed). */
  function forgetAll() {
    listing.clear();
    metas.clear();
    knownSizes?.clear();
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
        const result = await upload(bucket, key, file.open(), signal);
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

// Query parsing shared by REST and GraphQL: part of the objects service's interface.
export { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, parseCompressed, parseSort } from "./query.js";
