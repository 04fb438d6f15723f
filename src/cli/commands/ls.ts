import { assertVisible, folderPrefix, listLogical, visibleBuckets } from "../../services/bucket-ops/index.js";
import { usageError } from "../errors.js";
import type { Verb } from "../runtime.js";
import { parseS3Url } from "../s3-url.js";

/** `YYYY-MM-DD HH:MM:SS` in UTC, as the DeltaGlider CLI prints S3 times. */
function when(date: Date): string {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

/** The DeltaGlider CLI's `-h` sizes: one decimal, B/K/M/G/T, six wide. */
export function humanSize(size: number): string {
  let value = size;
  for (const unit of ["B", "K", "M", "G", "T"]) {
    if (value < 1024) return `${value.toFixed(1).padStart(6)}${unit}`;
    value /= 1024;
  }
  return `${value.toFixed(1)}P`;
}

/**
 * `ls [s3://BUCKET[/PREFIX]] [-r] [-h] [--summarize]`: the buckets, or the logical objects of a folder (a prefix is
 * always taken as a folder, as by the DeltaGlider CLI) with their ORIGINAL sizes, every page followed.
 */
export const run: Verb = async (ctx, args) => {
  const { store, hiddenBuckets } = ctx.services;
  const human = ctx.options.humanReadable === true;
  const size = (n: number) => (human ? humanSize(n) : String(n));
  if (args.length === 0) {
    if (ctx.options.recursive) throw usageError("ls -r needs an s3://BUCKET[/PREFIX] argument");
    const buckets = await visibleBuckets(store, hiddenBuckets, ctx.signal);
    if (ctx.json)
      ctx.printJson({ buckets: buckets.map((b) => ({ name: b.name, created: b.createdAt.toISOString() })) });
    else for (const b of buckets) ctx.line(`${when(b.createdAt)}  s3://${b.name}`);
    return 0;
  }
  const { bucket, key } = parseS3Url(args[0]);
  assertVisible(bucket, hiddenBuckets);
  const prefix = folderPrefix(key);
  const catalogue = await ctx.services.catalogue();
  const listing = await listLogical(catalogue, bucket, prefix, {
    recursive: ctx.options.recursive === true,
    signal: ctx.signal,
  });
  const totalOriginal = listing.objects.reduce((n, o) => n + o.originalBytes, 0);
  const totalStored = listing.objects.reduce((n, o) => n + o.storedBytes, 0);
  if (ctx.json) {
    ctx.printJson({
      bucket,
      prefix,
      objects: listing.objects.map((o) => ({
        key: o.key,
        original_bytes: o.originalBytes,
        stored_bytes: o.storedBytes,
        compressed: o.compressed,
        modified: o.modified.toISOString(),
      })),
      common_prefixes: listing.commonPrefixes,
      summary: { objects: listing.objects.length, original_bytes: totalOriginal, stored_bytes: totalStored },
    });
    return 0;
  }
  for (const common of listing.commonPrefixes) ctx.line(`${" ".repeat(27)}PRE ${common.slice(prefix.length)}`);
  for (const o of listing.objects) {
    ctx.line(`${when(o.modified)} ${size(o.originalBytes).padStart(10)} ${o.key.slice(prefix.length)}`);
  }
  if (ctx.options.summarize) {
    ctx.line("");
    ctx.line(`Total Objects: ${listing.objects.length}`);
    ctx.line(`   Total Size: ${size(totalOriginal)}`);
  }
  return 0;
};
