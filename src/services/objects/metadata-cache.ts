import { LRUCache } from "lru-cache";
import { mapWithConcurrency } from "../concurrency.js";
import type { Catalogue, LogicalEntry, LogicalObject } from "../deltaglider/catalogue.js";
import { DELTA_SUFFIX } from "../deltaglider/keys.js";

/**
 * Logical objects' metadata (a HEAD each for deltas), cached by physical key and checked against the listing's ETag,
 * so a changed object is read again. Concurrent listings of one folder (aliases, parallel requests) share each HEAD.
 */
export interface MetadataCache {
  /**
   * The metadata of each entry, in order: cached when the ETag still matches, else read, `concurrency` HEADs at once
   * (@default the cache's `headConcurrency`).
   */
  describe(
    bucket: string,
    entries: readonly LogicalEntry[],
    signal: AbortSignal,
    concurrency?: number,
  ): Promise<LogicalObject[]>;
  /** Caches an object resolved elsewhere (a metadata request). */
  remember(bucket: string, object: LogicalObject): void;
  /** Drops a logical key's entries (both its direct and its `.delta` form). */
  forget(bucket: string, key: string): void;
  /** Drops everything. */
  clear(): void;
}

export interface MetadataCacheOptions {
  catalogue: Catalogue;
  headConcurrency: number;
  max: number;
  ttlMs: number;
  /** Clock (ms) for the TTL; tests move it instead of sleeping. */
  now?: () => number;
}

export function createMetadataCache(options: MetadataCacheOptions): MetadataCache {
  const { catalogue, headConcurrency } = options;
  const metas = new LRUCache<string, { etag: string; object: LogicalObject }>({
    max: options.max,
    ttl: options.ttlMs,
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  /** HEADs in flight, so concurrent listings of one folder (aliases, parallel requests) read each object once. */
  const describing = new Map<string, Promise<LogicalObject>>();

  async function describe(
    bucket: string,
    entries: readonly LogicalEntry[],
    signal: AbortSignal,
    concurrency = headConcurrency,
  ) {
    return mapWithConcurrency(entries, concurrency, async (entry) => {
      const id = `${bucket}\0${entry.physicalKey}`;
      const cached = metas.get(id);
      if (cached && cached.etag === entry.etag) return cached.object;
      const pendingId = `${id}\0${entry.etag}`;
      let pending = describing.get(pendingId);
      if (!pending) {
        pending = catalogue.describe(bucket, entry, signal).then((object) => {
          metas.set(id, { etag: object.etag, object });
          return object;
        });
        describing.set(pendingId, pending);
        pending.finally(() => describing.delete(pendingId)).catch(() => undefined);
      }
      return pending;
    });
  }

  return {
    describe,
    remember(bucket, object) {
      metas.set(`${bucket}\0${object.physicalKey}`, { etag: object.etag, object });
    },
    forget(bucket, key) {
      metas.delete(`${bucket}\0${key}`);
      metas.delete(`${bucket}\0${key}${DELTA_SUFFIX}`);
    },
    clear() {
      metas.clear();
    },
  };
}
