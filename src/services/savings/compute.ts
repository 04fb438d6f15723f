import { setMaxListeners } from "node:events";
import type { Catalogue, LogicalEntry } from "../deltaglider/catalogue.js";
import { isGliderError } from "../errors.js";
import { entryMatches, type IndexEntry, type SavingsIndex } from "./index-store.js";

export interface BucketFigures {
  objectCount: number;
  originalBytes: number;
  /** Every physical byte the bucket holds, each reference.bin once: what the owner pays for. */
  storedBytes: number;
  savingsPct: number;
}

export interface ScanProgress extends BucketFigures {
  scannedObjects: number;
}

export interface ScanOptions {
  signal?: AbortSignal;
  /** Called after each LIST page and each answered HEAD; keep it cheap (the caller throttles what it publishes). */
  onProgress?: (progress: ScanProgress) => void;
  /** HEADs in flight at once. @default 16 */
  headConcurrency?: number;
  /**
   * What an earlier scan saw: a delta whose LIST ETag, size and LastModified match its entry takes its original size
   * from here instead of a HEAD.
   */
  index?: ReadonlyMap<string, IndexEntry>;
}

export interface ScanResult extends BucketFigures {
  /** Every logical object this scan saw, for the next scan (objects gone from the bucket are gone from it). */
  index: SavingsIndex;
  /** HEADs sent (deltas not in the index, or changed since). */
  heads: number;
}

/** RFC-DG-UI-0002: (1 − stored/original)·100, two decimals, clamped to 0..100, 0 for an empty bucket. */
export function savingsPct(originalBytes: number, storedBytes: number): number {
  if (originalBytes <= 0) return 0;
  const pct = (1 - storedBytes / originalBytes) * 100;
  return Math.round(Math.min(100, Math.max(0, pct)) * 100) / 100;
}

const ignore = () => {};

/**
 * One pass over a bucket (format doc §5.1, §5.2): LIST gives stored bytes (every physical object, each
 * `reference.bin` once) and the original size of direct objects; only deltas need a HEAD for `dg-file-size`.
 *
 * Pipelined: the next LIST page is requested as soon as a page arrives, and HEADs run in one continuous pool of
 * `headConcurrency` across page boundaries, so neither waits for the other. The first failure aborts everything in
 * flight (including the look-ahead LIST) and is rethrown once they have settled; an aborted `signal` ends the scan
 * with the signal's reason.
 */
export async function scanBucket(catalogue: Catalogue, bucket: string, options: ScanOptions = {}): Promise<ScanResult> {
  const limit = Math.max(1, options.headConcurrency ?? 16);
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  // Every request in flight listens on it (HEADs, the look-ahead LIST): not a leak, so no warning.
  setMaxListeners(2 * limit + 8, signal);
  let objectCount = 0;
  let originalBytes = 0;
  let storedBytes = 0;
  let heads = 0;
  const previous = options.index;
  const index: SavingsIndex = new Map();
  const report = () =>
    options.onProgress?.({
      scannedObjects: objectCount,
      objectCount,
      originalBytes,
      storedBytes,
      savingsPct: savingsPct(originalBytes, storedBytes),
    });

  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
    stop.abort(error);
  };
  /** Resolves when a HEAD slot is free (or the scan failed, so the caller stops dispatching). */
  const slot = async () => {
    while (inFlight.size >= limit && !failure) await Promise.race(inFlight);
  };
  const head = (entry: LogicalEntry) => {
    const task: Promise<void> = catalogue
      .describe(bucket, entry, signal)
      .then(
        (object) => {
          originalBytes += object.originalBytes;
          objectCount++;
          // Indexed only when the HEAD answered for the version LIST showed (not one written in between).
          if (object.etag === entry.etag && object.storedBytes === entry.storedBytes) {
            index.set(entry.physicalKey, {
              etag: entry.etag,
              storedBytes: entry.storedBytes,
              originalBytes: object.originalBytes,
              modified: entry.modified.getTime(),
            });
          }
        },
        (error: unknown) => {
          // Deleted between LIST and HEAD: it is gone, so it is neither an object nor stored bytes any more.
          if (!(isGliderError(error) && error.code === "key_not_found")) throw error;
          storedBytes -= entry.storedBytes;
        },
      )
      .then(report)
      .catch(fail)
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  const pages = catalogue.walk(bucket, "", signal);
  let ahead = pages.next();
  ahead.catch(ignore);
  try {
    for (;;) {
      const result = await ahead;
      if (result.done) break;
      // The next LIST overlaps this page's HEADs.
      ahead = pages.next();
      ahead.catch(ignore);
      const page = result.value;
      storedBytes += page.physicalBytes;
      const changed: LogicalEntry[] = [];
      for (const entry of page.entries) {
        const { physicalKey, etag, storedBytes: size } = entry;
        const modified = entry.modified.getTime();
        if (!entry.compressed) {
          originalBytes += size;
          objectCount++;
          index.set(physicalKey, { etag, storedBytes: size, originalBytes: size, modified });
          continue;
        }
        const known = previous?.get(physicalKey);
        if (entryMatches(known, entry)) {
          originalBytes += known.originalBytes;
          objectCount++;
          index.set(physicalKey, known.modified === undefined ? { ...known, modified } : known);
        } else {
          changed.push(entry);
        }
      }
      report();
      for (const entry of changed) {
        await slot();
        if (failure) throw failure.error;
        // Stores that ignore the signal (the filesystem) still stop here.
        signal.throwIfAborted();
        heads++;
        head(entry);
      }
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
  } catch (error) {
    fail(error);
    await Promise.allSettled([...inFlight, ahead]);
    await pages.return(undefined).catch(ignore);
    throw failure?.error ?? error;
  }
  return {
    objectCount,
    originalBytes,
    storedBytes,
    savingsPct: savingsPct(originalBytes, storedBytes),
    index,
    heads,
  };
}
