import type { Catalogue } from "../deltaglider/catalogue.js";

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

/** RFC-DG-UI-0002: (1 − stored/original)·100, two decimals, clamped to 0..100, 0 for an empty bucket. */
export function savingsPct(originalBytes: number, storedBytes: number): number {
  if (originalBytes <= 0) return 0;
  const pct = (1 - storedBytes / originalBytes) * 100;
  return Math.round(Math.min(100, Math.max(0, pct)) * 100) / 100;
}

/**
 * One pass over a bucket: LIST gives stored bytes and the original size of direct objects; only deltas need a HEAD
 * (their original size lives in metadata), done with the catalogue's bounded concurrency.
 */
export async function scanBucket(
  catalogue: Catalogue,
  bucket: string,
  options: { signal?: AbortSignal; onProgress?: (progress: ScanProgress) => void } = {},
): Promise<BucketFigures> {
  let objectCount = 0;
  let originalBytes = 0;
  let storedBytes = 0;
  for await (const page of catalogue.walk(bucket, "", options.signal)) {
    storedBytes += page.physicalBytes;
    const deltas = page.entries.filter((e) => e.compressed);
    for (const entry of page.entries) if (!entry.compressed) originalBytes += entry.storedBytes;
    for (const object of await catalogue.describeMany(bucket, deltas, options.signal)) {
      originalBytes += object.originalBytes;
    }
    objectCount += page.entries.length;
    options.onProgress?.({
      scannedObjects: objectCount,
      objectCount,
      originalBytes,
      storedBytes,
      savingsPct: savingsPct(originalBytes, storedBytes),
    });
  }
  return { objectCount, originalBytes, storedBytes, savingsPct: savingsPct(originalBytes, storedBytes) };
}
