import { createHash } from "node:crypto";
import { mapWithConcurrency } from "../concurrency.js";
import type { Catalogue, LogicalEntry } from "../deltaglider/catalogue.js";
import { deltaSpaceOf } from "../deltaglider/keys.js";
import { savingsPct } from "../savings/compute.js";

export type StatsMode = "quick" | "sampled" | "detailed";

/**
 * Bucket figures in the DeltaGlider CLI's vocabulary, with an honest label: `original_size_exact` is true only when
 * every delta's original size was read from its metadata (`detailed`, or any mode in a bucket without deltas).
 * `quick` estimates each delta's original size as its DeltaSpace's reference size (LIST only); `sampled` HEADs one
 * delta per DeltaSpace and applies its size to the others. DeltaGlider's quick mode counts deltas as 0 bytes instead,
 * which is off by orders of magnitude.
 */
export interface BucketStats {
  bucket: string;
  mode: StatsMode;
  object_count: number;
  total_size: number;
  compressed_size: number;
  space_saved: number;
  average_compression_ratio: number;
  savings_pct: number;
  delta_objects: number;
  direct_objects: number;
  reference_objects: number;
  original_size_exact: boolean;
  /** Deltas whose original size is an estimate (0 when exact). */
  estimated_objects: number;
  /** Identifies the bucket content the figures were computed from (object count, bytes, newest change). */
  fingerprint: string;
  computed_at: string;
  cached: boolean;
}

export interface StatsCache {
  get(bucket: string, mode: StatsMode): Promise<BucketStats | undefined>;
  set(stats: BucketStats): Promise<void>;
}

export interface StatsOptions {
  mode: StatsMode;
  /** Read and write cached figures; a cached result is used only while the bucket's fingerprint is unchanged. */
  cache?: StatsCache;
  /** Recompute even when the cache holds figures for the current fingerprint (they are still written). */
  refresh?: boolean;
  headConcurrency?: number;
  signal?: AbortSignal;
  onProgress?: (scanned: number) => void;
  now?: () => Date;
}

/** One LIST pass (always: it is what tells whether cached figures are still valid), then HEADs as the mode asks. */
export async function bucketStats(catalogue: Catalogue, bucket: string, options: StatsOptions): Promise<BucketStats> {
  const { signal, mode } = options;
  const entries: LogicalEntry[] = [];
  const references = new Map<string, number>();
  let physicalCount = 0;
  let physicalBytes = 0;
  let newest = 0;
  for await (const page of catalogue.walk(bucket, "", signal)) {
    for (const r of page.references) {
      references.set(deltaSpaceOf(r.key), r.size);
      newest = Math.max(newest, r.lastModified.getTime());
    }
    for (const e of page.entries) {
      entries.push(e);
      newest = Math.max(newest, e.modified.getTime());
    }
    physicalCount += page.entries.length + page.references.length;
    physicalBytes += page.physicalBytes;
    options.onProgress?.(entries.length);
  }
  const fingerprint = createHash("sha256").update(`${physicalCount}:${physicalBytes}:${newest}`).digest("hex");
  if (options.cache && !options.refresh) {
    const hit = await options.cache.get(bucket, mode);
    if (hit && hit.fingerprint === fingerprint && hit.mode === mode) return { ...hit, cached: true };
  }
  const deltas = entries.filter((e) => e.compressed);
  const directs = entries.filter((e) => !e.compressed);
  let total = directs.reduce((n, e) => n + e.storedBytes, 0);
  let estimated = 0;
  const concurrency = options.headConcurrency ?? 16;
  if (mode === "detailed") {
    const sizes = await mapWithConcurrency(deltas, concurrency, async (e) => {
      return (await catalogue.describe(bucket, e, signal)).originalBytes;
    });
    total += sizes.reduce((a, b) => a + b, 0);
  } else {
    const bySpace = new Map<string, LogicalEntry[]>();
    for (const e of deltas) {
      const space = deltaSpaceOf(e.physicalKey);
      const list = bySpace.get(space) ?? [];
      list.push(e);
      bySpace.set(space, list);
    }
    const spaces = [...bySpace.entries()];
    const sampleSizes = await mapWithConcurrency(spaces, concurrency, async ([space, list]) => {
      if (mode === "sampled") {
        const first = list[0];
        return { exact: first, size: (await catalogue.describe(bucket, first, signal)).originalBytes };
      }
      return { exact: undefined, size: references.get(space) ?? Math.max(...list.map((e) => e.storedBytes)) };
    });
    spaces.forEach(([, list], i) => {
      const { exact, size } = sampleSizes[i];
      total += size * list.length;
      estimated += list.length - (exact ? 1 : 0);
    });
  }
  // Every physical byte the bucket holds (what the owner pays for), each reference once.
  const compressed = physicalBytes;
  const saved = Math.max(0, total - compressed);
  return {
    bucket,
    mode,
    object_count: entries.length,
    total_size: total,
    compressed_size: compressed,
    space_saved: saved,
    average_compression_ratio: total > 0 ? Math.min(1, Math.max(0, saved / total)) : 0,
    savings_pct: savingsPct(total, compressed),
    delta_objects: deltas.length,
    direct_objects: directs.length,
    reference_objects: references.size,
    original_size_exact: estimated === 0,
    estimated_objects: estimated,
    fingerprint,
    computed_at: (options.now?.() ?? new Date()).toISOString(),
    cached: false,
  };
}
