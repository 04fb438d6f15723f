import type { LogicalEntry } from "../deltaglider/catalogue.js";
import { entryMatches, type IndexEntry } from "../savings/index-store.js";
import { createSingleFlightCache } from "../single-flight.js";

/**
 * Original sizes of deltas taken from the bucket's savings index instead of a HEAD each. A cold first page otherwise
 * costs its LIST walk plus one HEAD per delta on the page, sent after the walk; with the index it costs the walk
 * (and one GET of the index, sent while the walk runs). An index entry is used only when LIST shows the same ETag,
 * size and LastModified (`entryMatches`), so a stale entry costs a HEAD, never a wrong size.
 */
export interface KnownSizes {
  /** Starts loading the bucket's index unless it is cached, so the load overlaps the folder's LIST. */
  prefetch(bucket: string): void;
  /** Physical key → original size, for the deltas among `entries` the index vouches for; the others are absent. */
  sizes(bucket: string, entries: readonly LogicalEntry[], signal: AbortSignal): Promise<Map<string, number>>;
  /** Drops the bucket's cached index (or the cached fact that it has none). */
  forget(bucket: string): void;
  clear(): void;
}

export interface KnownSizesOptions {
  /** The bucket's savings index (the savings service's: in memory, else one GET); undefined when it has none. */
  load(bucket: string): Promise<ReadonlyMap<string, IndexEntry> | undefined>;
  /**
   * How long a loaded index, or the fact that there is none, is reused before it is read again: a missing index
   * costs at most one read per bucket per `ttlMs`, however many pages ask. @default 30 s
   */
  ttlMs?: number;
  /** Buckets whose index is held. @default 16 */
  max?: number;
  /** Clock (ms); tests move it instead of sleeping. */
  now?: () => number;
}

/** A cached load: the single-flight cache does not keep `undefined`, and "no index" must be kept too. */
interface Held {
  index?: ReadonlyMap<string, IndexEntry>;
}

export function createKnownSizes(options: KnownSizesOptions): KnownSizes {
  const held = createSingleFlightCache<Held>({
    max: options.max ?? 16,
    ttlMs: options.ttlMs ?? 30_000,
    now: options.now,
  });

  function indexOf(bucket: string, signal?: AbortSignal): Promise<Held | undefined> {
    // An unreadable index means no index: the page HEADs as before (the savings service logs the failure).
    return held.get(bucket, async () => ({ index: await options.load(bucket).catch(() => undefined) }), signal);
  }

  return {
    prefetch(bucket) {
      if (!held.peek(bucket)) indexOf(bucket).catch(() => undefined);
    },
    async sizes(bucket, entries, signal) {
      const out = new Map<string, number>();
      if (!entries.some((e) => e.compressed)) return out;
      const index = (await indexOf(bucket, signal))?.index;
      if (!index) return out;
      for (const entry of entries) {
        if (!entry.compressed) continue;
        const known = index.get(entry.physicalKey);
        if (entryMatches(known, entry)) out.set(entry.physicalKey, known.originalBytes);
      }
      return out;
    },
    forget(bucket) {
      held.delete(bucket);
    },
    clear() {
      held.deleteWhere(() => true);
    },
  };
}
