import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { BucketStats, StatsCache, StatsMode } from "../../services/bucket-ops/index.js";
import { assertBucket, bucketStats } from "../../services/bucket-ops/index.js";
import { usageError } from "../errors.js";
import type { CommandContext, Verb } from "../runtime.js";
import { parseBucketArg } from "../s3-url.js";

/**
 * Figures cached on this machine, one file per store, bucket and mode (`$XDG_CACHE_HOME/glider/stats`). They are
 * used only while the bucket's LIST fingerprint is unchanged; DeltaGlider's in-bucket cache never worked (format
 * doc §5.3) and a read-only command should not write into the bucket.
 */
function fileCache(ctx: CommandContext): StatsCache {
  const root = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "glider", "stats");
  const storage = ctx.config.storage;
  const where =
    storage.kind === "fs"
      ? `fs:${storage.dataDir}`
      : storage.kind === "s3"
        ? `s3:${storage.endpoint ?? "aws"}:${storage.region}`
        : "memory";
  const file = (bucket: string, mode: StatsMode) =>
    join(root, `${createHash("sha256").update(`${where}\n${bucket}`).digest("hex").slice(0, 32)}-${mode}.json`);
  return {
    async get(bucket, mode) {
      try {
        return JSON.parse(await readFile(file(bucket, mode), "utf8")) as BucketStats;
      } catch {
        return undefined;
      }
    },
    async set(stats) {
      try {
        await mkdir(root, { recursive: true });
        const path = file(stats.bucket, stats.mode);
        await writeFile(`${path}.tmp`, JSON.stringify(stats));
        await rename(`${path}.tmp`, path);
      } catch {
        // A cache that cannot be written only costs the next run its HEADs.
      }
    },
  };
}

function bytes(n: number): string {
  let value = n;
  for (const unit of ["B", "KB", "MB", "GB", "TB"]) {
    if (value < 1024) return `${value.toFixed(2)} ${unit}`;
    value /= 1024;
  }
  return `${value.toFixed(2)} PB`;
}

/** `stats BUCKET [--sampled|--detailed] [--refresh|--no-cache] [--json]`. */
export const run: Verb = async (ctx, args) => {
  const bucket = parseBucketArg(args[0]);
  const { sampled, detailed, refresh } = ctx.options;
  const useCache = ctx.options.cache !== false;
  if (sampled && detailed) throw usageError("--sampled and --detailed cannot be used together");
  if (refresh && !useCache) throw usageError("--refresh and --no-cache cannot be used together");
  const mode: StatsMode = detailed ? "detailed" : sampled ? "sampled" : "quick";
  await assertBucket(ctx.services.store, bucket, ctx.services.hiddenBuckets, ctx.signal);
  const catalogue = await ctx.services.catalogue();
  const cache = useCache ? fileCache(ctx) : undefined;
  const progress = ctx.progress(`scanning ${bucket}`);
  let stats: BucketStats;
  try {
    stats = await bucketStats(catalogue, bucket, {
      mode,
      cache,
      refresh: refresh === true,
      headConcurrency: ctx.config.deltaglider.headConcurrency,
      signal: ctx.signal,
      onProgress: () => progress.item(),
    });
  } finally {
    progress.end();
  }
  if (cache && !stats.cached) await cache.set(stats);
  if (ctx.json) {
    ctx.printJson(stats);
    return 0;
  }
  const label = stats.original_size_exact
    ? "exact"
    : `estimated: ${stats.estimated_objects} delta sizes not read, use --detailed for exact figures`;
  ctx.line(`Bucket Statistics: ${stats.bucket} (${stats.mode}${stats.cached ? ", cached" : ""})`);
  ctx.line("=".repeat(60));
  ctx.line(`Total Objects:        ${stats.object_count.toLocaleString("en-US")}`);
  ctx.line(`  Delta Objects:      ${stats.delta_objects.toLocaleString("en-US")}`);
  ctx.line(`  Direct Objects:     ${stats.direct_objects.toLocaleString("en-US")}`);
  ctx.line("");
  ctx.line(
    `Original Size:        ${bytes(stats.total_size)} (${stats.total_size.toLocaleString("en-US")} bytes, ${label})`,
  );
  ctx.line(
    `Compressed Size:      ${bytes(stats.compressed_size)} (${stats.compressed_size.toLocaleString("en-US")} bytes)`,
  );
  ctx.line(`Space Saved:          ${bytes(stats.space_saved)} (${stats.space_saved.toLocaleString("en-US")} bytes)`);
  ctx.line(`Compression Ratio:    ${(stats.average_compression_ratio * 100).toFixed(1)}%`);
  return 0;
};
