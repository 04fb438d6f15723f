import type { LogicalEntry } from "../services/deltaglider/catalogue.js";
import { compareKeys } from "../services/storage/keys.js";
import type { Command, CommandContext } from "./context.js";
import { usageError } from "./errors.js";
import { parseS3Url } from "./s3-url.js";

/** One logical object as `ls` shows it. */
export interface ListedObject {
  key: string;
  originalBytes: number;
  storedBytes: number;
  compressed: boolean;
  modified: Date;
}

/** Deltas keep their original size in metadata (one HEAD each, bounded); other objects are their own size. */
async function withOriginalSizes(ctx: CommandContext, bucket: string, entries: LogicalEntry[]) {
  const { catalogue } = ctx.services.deltaglider;
  const deltas = entries.filter((e) => e.compressed);
  const described = new Map<string, number>();
  for (const object of await catalogue.describeMany(bucket, deltas, ctx.signal)) {
    described.set(object.physicalKey, object.originalBytes);
  }
  return entries.map(
    (e): ListedObject => ({
      key: e.key,
      originalBytes: described.get(e.physicalKey) ?? e.storedBytes,
      storedBytes: e.storedBytes,
      compressed: e.compressed,
      modified: e.modified,
    }),
  );
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, like `aws s3 ls` (which uses local time). */
function when(date: Date): string {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

const PRE_PAD = " ".repeat(19 + 1 + 12 + 1 + 12 - 3);

async function listBuckets(ctx: CommandContext): Promise<number> {
  const hidden = ctx.services.config.send.systemBucket;
  const buckets = (await ctx.services.store.listBuckets(ctx.signal)).filter((b) => b.name !== hidden);
  if (ctx.options.json) {
    ctx.printJson({ buckets: buckets.map((b) => ({ name: b.name, created: b.createdAt.toISOString() })) });
  } else {
    for (const b of buckets) ctx.print(`${when(b.createdAt)} ${b.name}`);
  }
  return 0;
}

/**
 * `ls [-r] [--json] [s3://BUCKET[/PREFIX]]`: logical objects with original and stored sizes. One level with `PRE`
 * lines for sub-folders, or with `-r` every object below the prefix. Without a URL: the buckets.
 */
export const ls: Command = async (ctx, args) => {
  if (args.length > 1) throw usageError("ls takes at most one s3://BUCKET[/PREFIX] argument");
  if (args.length === 0) {
    if (ctx.options.recursive) throw usageError("ls -r needs an s3://BUCKET[/PREFIX] argument");
    return listBuckets(ctx);
  }
  const { bucket, key: prefix } = parseS3Url(args[0]);
  const { deltaglider } = ctx.services;
  let objects: ListedObject[] = [];
  let commonPrefixes: string[] = [];
  if (ctx.options.recursive) {
    for await (const page of deltaglider.catalogue.walk(bucket, prefix, ctx.signal)) {
      objects.push(...(await withOriginalSizes(ctx, bucket, page.entries)));
    }
  } else {
    const listing = await deltaglider.list(bucket, prefix, ctx.signal);
    objects = await withOriginalSizes(ctx, bucket, listing.objects);
    commonPrefixes = listing.commonPrefixes;
  }
  objects.sort((a, b) => compareKeys(a.key, b.key));
  commonPrefixes.sort(compareKeys);

  if (ctx.options.json) {
    ctx.printJson({
      objects: objects.map((o) => ({
        key: o.key,
        original_bytes: o.originalBytes,
        stored_bytes: o.storedBytes,
        compressed: o.compressed,
        modified: o.modified.toISOString(),
      })),
      common_prefixes: commonPrefixes,
    });
    return 0;
  }
  // Like `aws s3 ls`: one level shows names relative to the folder, `-r` shows full keys.
  const folder = ctx.options.recursive ? "" : prefix.slice(0, prefix.lastIndexOf("/") + 1);
  for (const common of commonPrefixes) ctx.print(`${PRE_PAD}PRE ${common.slice(folder.length)}`);
  for (const o of objects) {
    const original = String(o.originalBytes).padStart(12);
    const stored = String(o.storedBytes).padStart(12);
    ctx.print(`${when(o.modified)} ${original} ${stored} ${o.key.slice(folder.length)}`);
  }
  return 0;
};
