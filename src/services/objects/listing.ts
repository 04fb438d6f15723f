import { LRUCache } from "lru-cache";
import type { ListedPage, LogicalEntry, LogicalListing } from "../deltaglider/catalogue.js";
import { baseName } from "../deltaglider/keys.js";
import { GliderError } from "../errors.js";
import { createSigner } from "../signing.js";
import { createSingleFlightCache } from "../single-flight.js";
import { compareKeys } from "../storage/keys.js";
import type { KnownSizes } from "./known-sizes.js";
import type { MetadataCache } from "./metadata-cache.js";
import { checkLimit, normalisePrefix, type ObjectQuery, type SortField, type SortOrder } from "./query.js";
import { createSizePrefetch } from "./size-prefetch.js";
import type { ObjectPage, ObjectRow } from "./types.js";
import { withTimeout } from "./with-timeout.js";

/**
 * Paged folder listings: LIST results cached per folder (single-flight), sorted views of them per query shape, and
 * signed cursors that name the last row's (sort value, key), so a page is a binary search into the view.
 */
export interface ObjectListing {
  /** One page of the query (the caller has checked the bucket is visible and charged the rate limiter). */
  page(query: ObjectQuery, signal?: AbortSignal): Promise<ObjectPage>;
  /** A listing row for an entry whose original size is known. */
  rowOf(bucket: string, entry: LogicalEntry, originalBytes: number): ObjectRow;
  /** Drops the bucket's cached folder listings. */
  forget(bucket: string): void;
  /** Drops every cached folder listing. */
  clear(): void;
}

export interface ObjectListingOptions {
  /** LISTs a folder as logical entries (DeltaGlider's listing); `onPage` sees each LIST page's entries. */
  list(
    bucket: string,
    prefix: string,
    signal: AbortSignal,
    onPage?: (page: ListedPage) => void,
  ): Promise<LogicalListing>;
  metadata: MetadataCache;
  /**
   * HEADs in flight for the deltas of the page being answered, once its rows are known (after the walk for a
   * modified sort, or a cursor page): at most `limit` HEADs that the caller is waiting on. Reads while the walk goes
   * on, and the whole-folder reads of the size and savings sorts, keep the metadata cache's own concurrency.
   * @default the metadata cache's concurrency
   */
  pageHeadConcurrency?: number;
  /** Original sizes from the bucket's savings index, checked against LIST: deltas it vouches for need no HEAD. */
  knownSizes?: KnownSizes;
  /** Signs cursors; shared with download tokens through per-purpose keys. */
  secret: string;
  timeoutMs: number;
  listCache?: { ttlMs: number; max: number };
  /** Clock (ms) of the listing cache; tests move it instead of sleeping. */
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

export function createObjectListing(options: ObjectListingOptions): ObjectListing {
  const { list, metadata, timeoutMs } = options;
  const cursors = createSigner(options.secret, "cursor");
  // Single-flight: when a listing expires under load, one LIST refreshes it and everyone else keeps the old one.
  const listings = createSingleFlightCache<LogicalListing>({
    max: options.listCache?.max ?? 100,
    ttlMs: options.listCache?.ttlMs ?? 30_000,
    now: options.now,
  });

  async function folder(
    bucket: string,
    prefix: string,
    signal: AbortSignal,
    onPage?: (listSignal: AbortSignal) => ((page: ListedPage) => void) | undefined,
  ): Promise<LogicalListing> {
    // The LIST belongs to no caller (an aborted first caller must not fail the others): it has its own deadline.
    const listing = await listings.get(
      `${bucket}\0${prefix}`,
      () => {
        const listSignal = AbortSignal.timeout(timeoutMs);
        return list(bucket, prefix, listSignal, onPage?.(listSignal));
      },
      signal,
    );
    return listing as LogicalListing;
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

  /**
   * Rows with original sizes: a delta's comes from the savings index when its entry matches the LIST entry, else
   * from its metadata (a HEAD, cached); direct objects need neither.
   */
  async function rows(bucket: string, entries: readonly LogicalEntry[], signal: AbortSignal, concurrency?: number) {
    const described = await sizesOf(
      bucket,
      entries.filter((e) => e.compressed),
      signal,
      concurrency,
    );
    return entries.map((e) =>
      rowOf(bucket, e, e.compressed ? (described.get(e.physicalKey) ?? e.storedBytes) : e.storedBytes),
    );
  }

  /** Physical key → original size of each delta: from the savings index when its entry matches, else a HEAD. */
  async function sizesOf(bucket: string, deltas: readonly LogicalEntry[], signal: AbortSignal, concurrency?: number) {
    const sizes = options.knownSizes
      ? await options.knownSizes.sizes(bucket, deltas, signal)
      : new Map<string, number>();
    const unknown = sizes.size ? deltas.filter((e) => !sizes.has(e.physicalKey)) : deltas;
    for (const o of await metadata.describe(bucket, unknown, signal, concurrency)) {
      sizes.set(o.physicalKey, o.originalBytes);
    }
    return sizes;
  }

  /**
   * Sorted views of a cached folder listing, per query shape: a warm page is a binary search plus the page's rows,
   * not a filter and sort of the whole folder. A view is valid only for the listing object it was built from.
   */
  const views = new LRUCache<string, SortedView>({ max: 64 });

  async function sortedView(
    query: ObjectQuery,
    shape: {
      prefix: string;
      sort: SortField;
      order: SortOrder;
      search?: string;
      fingerprint: string;
      /** Rows the page shows; undefined for a page after a cursor. */
      firstPage?: number;
    },
    signal: AbortSignal,
  ): Promise<SortedView> {
    const matches = (o: LogicalEntry) =>
      (query.compressed === undefined || o.compressed === query.compressed) &&
      (!shape.search || baseName(o.key).toLowerCase().includes(shape.search));
    // Name and modified come from LIST alone; size and savings need every delta's metadata (HEADs, cached).
    const needsAllSizes = shape.sort === "size" || shape.sort === "savings_pct";
    // A cold listing: the sizes the page will need are read while the walk goes on, where they are known early.
    const want = needsAllSizes
      ? ("all" as const)
      : shape.sort === "name" && shape.order === "asc" && shape.firstPage
        ? { first: shape.firstPage }
        : undefined;
    const listing = await folder(query.bucket, shape.prefix, signal, (listSignal) =>
      want
        ? createSizePrefetch({ matches, want, fetch: (deltas) => sizesOf(query.bucket, deltas, listSignal) })
        : undefined,
    );
    const cached = views.get(shape.fingerprint);
    if (cached && cached.listing === listing) return cached;
    const matching = listing.objects.filter(matches);
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

  async function page(query: ObjectQuery, signal?: AbortSignal): Promise<ObjectPage> {
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
    // The Commander's Refresh: list the folder again instead of answering from the cache (first page only).
    if (query.fresh && !after) listings.delete(`${query.bucket}\0${prefix}`);
    // Read while the folder is listed, so a cold page waits for the LIST walk only.
    options.knownSizes?.prefetch(query.bucket);
    return withTimeout(timeoutMs, signal, async (s) => {
      const firstPage = after ? undefined : limit;
      const view = await sortedView(query, { prefix, sort, order, search, fingerprint, firstPage }, s);
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
            options.pageHeadConcurrency,
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

  return {
    page,
    rowOf,
    forget(bucket) {
      listings.deleteWhere((id) => id.startsWith(`${bucket}\0`));
    },
    clear() {
      listings.deleteWhere(() => true);
    },
  };
}
