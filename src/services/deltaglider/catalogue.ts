import { mapWithConcurrency } from "../concurrency.js";
import { GliderError } from "../errors.js";
import { compareKeys } from "../storage/keys.js";
import type { ListObjectsPage, ObjectHead, ObjectStore, ObjectSummary } from "../storage/object-store.js";
import { listInParallel } from "../storage/parallel-listing.js";
import { DELTA_SUFFIX, deltaSpaceOf, HOUSEKEEPING_PREFIX, isReferenceKey, referenceKeyOf, toLogical } from "./keys.js";
import { kindOf, type ObjectKind, parseSize, readDgMetadata } from "./metadata.js";

/** A logical object as LIST alone shows it (format doc §1.3, §5.2): no HEAD was needed. */
export interface LogicalEntry {
  key: string;
  physicalKey: string;
  /** The physical object is a `.delta` (including the first file's zero-diff delta). */
  compressed: boolean;
  /** Size of the object's own physical object; the shared reference is never attributed to it (§5.1). */
  storedBytes: number;
  modified: Date;
  etag: string;
}

/** A logical object with what its metadata adds. */
export interface LogicalObject extends LogicalEntry {
  kind: ObjectKind;
  originalBytes: number;
  sha256?: string;
  /** For deltas, the reference the delta decodes against. */
  referenceKey?: string;
  physicalKeys: string[];
  metadata: Record<string, string>;
  /** Content type of the physical object as stored (absent when the store did not say). */
  contentType?: string;
}

export interface LogicalListing {
  objects: LogicalEntry[];
  commonPrefixes: string[];
  /** Physical `reference.bin` objects directly under the prefix. */
  references: ObjectSummary[];
}

export interface CatalogueOptions {
  /** HEADs in flight at once when metadata is asked for. @default 16 */
  headConcurrency?: number;
  /** Refuse listings beyond this many physical entries in one folder. @default 1_000_000 */
  maxEntries?: number;
  /** LIST calls in flight to read one folder (parallel-listing.ts). @default the store's `listConcurrency`, else 1 */
  listConcurrency?: number;
}

/**
 * Drops `x.delta` when a plain `x` exists: reads resolve the exact key first (§4), so it wins. `x` always sorts
 * before `x.delta` and every key between them starts with `x`, so only keys that prefix the current one are kept.
 */
export function createTwinFilter() {
  let pending: string[] = [];
  return (physicalKey: string, logicalKey: string, compressed: boolean): boolean => {
    pending = pending.filter((p) => physicalKey.startsWith(p));
    if (compressed) return !pending.includes(logicalKey);
    pending.push(physicalKey);
    return true;
  };
}

/** One page of a recursive walk: its logical entries, the references on it, and every physical byte it holds. */
export interface WalkPage {
  entries: LogicalEntry[];
  references: ObjectSummary[];
  physicalBytes: number;
}

/** What a folder listing has found after one more LIST page (see `Catalogue.list`). */
export interface ListedPage {
  /** The logical entries this page added, in physical order. */
  entries: readonly LogicalEntry[];
}

/** DeltaGlider's logical view of a bucket (format doc §1.3, §4, §5): listings, walks and metadata over any store. */
export interface Catalogue {
  /**
   * One folder level (`/` delimiter semantics on logical keys), sorted by logical key in UTF-8 order. `onPage` sees
   * the entries as each LIST page arrives (a caller can start work on them while the walk goes on).
   */
  list(
    bucket: string,
    prefix: string,
    signal?: AbortSignal,
    onPage?: (page: ListedPage) => void,
  ): Promise<LogicalListing>;
  /** Every logical object below the prefix, page by page, in physical order; references reported separately. */
  walk(bucket: string, prefix: string, signal?: AbortSignal): AsyncGenerator<WalkPage>;
  /** A listed entry's full metadata (one HEAD of its physical object). */
  describe(bucket: string, entry: LogicalEntry, signal?: AbortSignal): Promise<LogicalObject>;
  /** HEADs in bounded parallel (`headConcurrency`): the per-object metadata a listing cannot give. */
  describeMany(bucket: string, entries: readonly LogicalEntry[], signal?: AbortSignal): Promise<LogicalObject[]>;
  /**
   * Resolves a logical key the way DeltaGlider's reads do (§4): the exact key first, then `key.delta`;
   * `key_not_found` when neither exists. With `likelyDelta`, both HEADs go out at once.
   */
  resolve(bucket: string, key: string, signal?: AbortSignal, hint?: { likelyDelta?: boolean }): Promise<LogicalObject>;
  /**
   * Every physical page under the prefix, following the store's pages to the end; `invalid_prefix` past
   * `maxEntries` entries.
   */
  physicalPages(
    bucket: string,
    prefix: string,
    delimiter: string | undefined,
    signal?: AbortSignal,
  ): AsyncGenerator<ListObjectsPage>;
}

export function createCatalogue(store: ObjectStore, options: CatalogueOptions = {}): Catalogue {
  const headConcurrency = options.headConcurrency ?? 16;
  const maxEntries = options.maxEntries ?? 1_000_000;
  const listConcurrency = options.listConcurrency ?? store.capabilities.listConcurrency ?? 1;

  /** Every physical page under the prefix; the store's pages are followed to the end (the Commander stops at 1,000). */
  async function* physicalPages(bucket: string, prefix: string, delimiter: string | undefined, signal?: AbortSignal) {
    yield* bounded(bucket, prefix, sequentialPages(bucket, prefix, delimiter, signal));
  }

  async function* sequentialPages(
    bucket: string,
    prefix: string,
    delimiter: string | undefined,
    signal?: AbortSignal,
  ): AsyncGenerator<ListObjectsPage> {
    let continuationToken: string | undefined;
    do {
      const page = await store.listObjects({ bucket, prefix, delimiter, continuationToken, signal });
      yield page;
      continuationToken = page.nextContinuationToken;
    } while (continuationToken);
  }

  /** The pages, refused with `invalid_prefix` once they pass `maxEntries` entries. */
  async function* bounded(bucket: string, prefix: string, pages: AsyncGenerator<ListObjectsPage>) {
    let seen = 0;
    for await (const page of pages) {
      seen += page.objects.length + page.commonPrefixes.length;
      if (seen > maxEntries) {
        throw new GliderError("invalid_prefix", `more than ${maxEntries} entries under "${prefix}"`, {
          bucket,
          prefix,
        });
      }
      yield page;
    }
  }

  /** A folder's pages in key order: on a remote store, several LISTs at once (parallel-listing.ts). */
  function folderPages(bucket: string, prefix: string, signal?: AbortSignal) {
    if (listConcurrency <= 1) return physicalPages(bucket, prefix, "/", signal);
    return bounded(
      bucket,
      prefix,
      listInParallel(store, { bucket, prefix, delimiter: "/", signal }, { concurrency: listConcurrency }),
    );
  }

  function toEntry(summary: ObjectSummary): LogicalEntry | undefined {
    const logical = toLogical(summary.key);
    if (!logical) return undefined;
    return {
      key: logical.key,
      physicalKey: summary.key,
      compressed: logical.compressed,
      storedBytes: summary.size,
      modified: summary.lastModified,
      etag: summary.etag,
    };
  }

  /** One folder level (`/` delimiter semantics on logical keys), sorted by logical key in UTF-8 order. */
  async function list(
    bucket: string,
    prefix: string,
    signal?: AbortSignal,
    onPage?: (page: ListedPage) => void,
  ): Promise<LogicalListing> {
    const objects: LogicalEntry[] = [];
    const commonPrefixes: string[] = [];
    const references: ObjectSummary[] = [];
    const keep = createTwinFilter();
    // The next LIST is sent before this page is processed (a folder listing reads every page): the walk takes the
    // LIST calls' time, not that plus each page's processing and the caller's `onPage`.
    const pages = folderPages(bucket, prefix, signal);
    let ahead = pages.next();
    for (;;) {
      const result = await ahead;
      if (result.done) break;
      ahead = pages.next();
      // Awaited at the top of the loop; this only keeps a failure seen there from being reported as unhandled.
      ahead.catch(() => undefined);
      const page = result.value;
      const before = objects.length;
      for (const summary of page.objects) {
        if (isReferenceKey(summary.key)) {
          references.push(summary);
          continue;
        }
        const entry = toEntry(summary);
        if (entry?.key.startsWith(prefix) && keep(entry.physicalKey, entry.key, entry.compressed)) {
          objects.push(entry);
        }
      }
      for (const common of page.commonPrefixes) if (common !== HOUSEKEEPING_PREFIX) commonPrefixes.push(common);
      onPage?.({ entries: objects.slice(before) });
    }
    // Stripping ".delta" can change the order (`x.zip-manifest.json` sorts before `x.zip.delta` but after `x.zip`).
    objects.sort((a, b) => compareKeys(a.key, b.key));
    return { objects, commonPrefixes, references };
  }

  /** Every logical object below the prefix, page by page, in physical order; references reported separately. */
  async function* walk(bucket: string, prefix: string, signal?: AbortSignal): AsyncGenerator<WalkPage> {
    const keep = createTwinFilter();
    for await (const page of physicalPages(bucket, prefix, undefined, signal)) {
      const entries: LogicalEntry[] = [];
      const references: ObjectSummary[] = [];
      let physicalBytes = 0;
      for (const summary of page.objects) {
        physicalBytes += summary.size;
        if (isReferenceKey(summary.key)) {
          references.push(summary);
          continue;
        }
        const entry = toEntry(summary);
        if (entry?.key.startsWith(prefix) && keep(entry.physicalKey, entry.key, entry.compressed)) {
          entries.push(entry);
        }
      }
      yield { entries, references, physicalBytes };
    }
  }

  function fromHead(entry: LogicalEntry, head: ObjectHead): LogicalObject {
    const meta = readDgMetadata(head.metadata);
    const kind = kindOf(meta);
    const referenceKey =
      kind === "delta" ? (meta.refKey ?? referenceKeyOf(deltaSpaceOf(entry.physicalKey))) : undefined;
    return {
      ...entry,
      storedBytes: head.size,
      modified: head.lastModified,
      etag: head.etag,
      kind,
      // A delta without a usable size falls back to its stored size, as DeltaGlider's quick listings do.
      originalBytes: kind === "delta" ? (parseSize(meta.fileSize) ?? head.size) : head.size,
      sha256: kind === "plain" ? undefined : meta.fileSha256,
      referenceKey,
      physicalKeys: referenceKey ? [entry.physicalKey, referenceKey] : [entry.physicalKey],
      metadata: head.metadata,
      contentType: head.contentType,
    };
  }

  async function describe(bucket: string, entry: LogicalEntry, signal?: AbortSignal): Promise<LogicalObject> {
    return fromHead(entry, await store.headObject(bucket, entry.physicalKey, signal));
  }

  /** HEADs in bounded parallel: the per-object metadata a listing cannot give. */
  async function describeMany(bucket: string, entries: readonly LogicalEntry[], signal?: AbortSignal) {
    return mapWithConcurrency(entries, headConcurrency, (entry) => describe(bucket, entry, signal));
  }

  /**
   * Resolves a logical key the way DeltaGlider's reads do (§4): the exact key first, then `key.delta`. With
   * `likelyDelta` (the caller saw a delta when it resolved the key before, as a download token records), both HEADs
   * go out at once, so a delta costs one round trip instead of two; the exact key still wins when it exists.
   */
  async function resolve(
    bucket: string,
    key: string,
    signal?: AbortSignal,
    hint: { likelyDelta?: boolean } = {},
  ): Promise<LogicalObject> {
    if (hint.likelyDelta && !isReferenceKey(key) && !key.endsWith(DELTA_SUFFIX)) {
      const deltaKey = `${key}${DELTA_SUFFIX}`;
      const headOrMissing = (physicalKey: string) =>
        store.headObject(bucket, physicalKey, signal).catch((error: unknown) => {
          if (error instanceof GliderError && error.code === "key_not_found") return undefined;
          throw error;
        });
      const [exact, delta] = await Promise.all([headOrMissing(key), headOrMissing(deltaKey)]);
      const found = exact
        ? { physicalKey: key, head: exact }
        : delta
          ? { physicalKey: deltaKey, head: delta }
          : undefined;
      if (found) {
        const { physicalKey, head } = found;
        return fromHead(
          {
            key,
            physicalKey,
            compressed: physicalKey !== key,
            storedBytes: head.size,
            modified: head.lastModified,
            etag: head.etag,
          },
          head,
        );
      }
      throw new GliderError("key_not_found", `no object "${key}" in bucket "${bucket}"`, { bucket, key });
    }
    for (const physicalKey of [key, `${key}${DELTA_SUFFIX}`]) {
      if (physicalKey === key && (isReferenceKey(key) || key.endsWith(DELTA_SUFFIX))) continue;
      try {
        const head = await store.headObject(bucket, physicalKey, signal);
        const compressed = physicalKey !== key;
        return fromHead(
          { key, physicalKey, compressed, storedBytes: head.size, modified: head.lastModified, etag: head.etag },
          head,
        );
      } catch (error) {
        if (!(error instanceof GliderError && error.code === "key_not_found")) throw error;
      }
    }
    throw new GliderError("key_not_found", `no object "${key}" in bucket "${bucket}"`, { bucket, key });
  }

  return { list, walk, describe, describeMany, resolve, physicalPages };
}
