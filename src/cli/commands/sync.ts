import { rm as removeFile, rmdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { assertVisible, folderPrefix, planSync, selects, withOriginalSizes } from "../../services/bucket-ops/index.js";
import type { Catalogue } from "../../services/deltaglider/index.js";
import { usageError } from "../errors.js";
import { ensureFolder, isDirectory, localPathFor, scanFiles } from "../local-files.js";
import { forEachConcurrent } from "../pool.js";
import { type CommandContext, createReport, type Verb } from "../runtime.js";
import { isS3Url, parseS3Url, type S3Location, s3Url } from "../s3-url.js";
import { downloadObjects, uploadFiles } from "./cp.js";
import { pathFilter } from "./transfer.js";

/** The remote side of a sync: logical objects below the prefix, original sizes (a HEAD per delta), filter applied. */
async function remoteEntries(ctx: CommandContext, catalogue: Catalogue, at: S3Location, prefix: string) {
  const filter = pathFilter(ctx);
  const entries = [];
  for await (const page of catalogue.walk(at.bucket, prefix, ctx.signal)) {
    const selected = page.entries.filter((e) => {
      const rel = e.key.slice(prefix.length);
      return rel !== "" && !e.key.endsWith("/") && selects(filter, rel);
    });
    entries.push(...(await withOriginalSizes(catalogue, at.bucket, selected, ctx.signal)));
  }
  return entries.map((e) => ({
    ...e,
    path: e.key.slice(prefix.length),
    size: e.originalBytes,
    mtimeMs: e.modified.getTime(),
  }));
}

async function localEntries(ctx: CommandContext, root: string) {
  if (!(await isDirectory(root))) return [];
  const filter = pathFilter(ctx);
  return (await scanFiles(root)).filter((f) => selects(filter, f.path));
}

/**
 * The remote listing (already started) and then the local scan, side by side: the scan runs while the store works
 * on the LIST. There is no HEAD of the bucket first, as the real CLI has none: the LIST itself answers
 * `bucket_not_found` for a missing bucket (on s3rver a HEAD of a bucket costs a whole LIST, the stores' contract
 * guarantees the code).
 */
async function bothSides<R, L>(remote: Promise<R>, local: () => Promise<L>): Promise<[R, L]> {
  // Awaited below; this only keeps a failure while the scan runs from being reported as unhandled.
  remote.catch(() => undefined);
  const scanned = await local();
  return [await remote, scanned];
}

async function toS3(ctx: CommandContext, source: string, to: S3Location) {
  if (!(await isDirectory(source))) throw usageError(`source must be a directory: ${source}`);
  assertVisible(to.bucket, ctx.services.hiddenBuckets);
  const prefix = folderPrefix(to.key);
  const dryRun = ctx.options.dryrun === true;
  const catalogue = await ctx.services.catalogue();
  const [remote, local] = await bothSides(remoteEntries(ctx, catalogue, to, prefix), () => localEntries(ctx, source));
  const plan = planSync(local, remote, {
    sizeOnly: ctx.options.sizeOnly === true,
    delete: ctx.options.delete === true,
  });
  const report = createReport(ctx, "sync", dryRun);
  report.skipped(plan.unchanged);
  if (dryRun) {
    for (const t of plan.transfer) {
      report.done(
        {
          action: "upload",
          source: t.source.absolute,
          destination: s3Url(to.bucket, `${prefix}${t.source.path}`),
          bytes: t.source.size,
          reason: t.reason,
        },
        `(dryrun) upload: ${t.source.absolute} to ${s3Url(to.bucket, `${prefix}${t.source.path}`)}`,
      );
    }
  } else if (plan.transfer.length > 0) {
    await uploadFiles(
      ctx,
      await ctx.services.deltaglider(),
      plan.transfer.map((t) => t.source),
      to.bucket,
      prefix,
      report,
      `sync ${s3Url(to.bucket, prefix)}`,
    );
  }
  await forEachConcurrent(
    plan.remove,
    ctx.jobs,
    async (d) => {
      const url = s3Url(to.bucket, d.key);
      if (!dryRun) await (await ctx.services.deltaglider()).deleteObject(to.bucket, d.key, ctx.signal);
      report.done({ action: "delete", destination: url, bytes: 0 }, `${dryRun ? "(dryrun) " : ""}delete: ${url}`);
    },
    (d, error) => report.failed(s3Url(to.bucket, d.key), error),
    ctx.signal,
  );
  return summarize(ctx, report, plan.transfer.length, plan.remove.length, dryRun);
}

async function fromS3(ctx: CommandContext, from: S3Location, dest: string) {
  assertVisible(from.bucket, ctx.services.hiddenBuckets);
  const prefix = folderPrefix(from.key);
  const root = resolve(dest);
  const dryRun = ctx.options.dryrun === true;
  const catalogue = await ctx.services.catalogue();
  const [remote, local] = await bothSides(remoteEntries(ctx, catalogue, from, prefix), () => localEntries(ctx, root));
  const plan = planSync(remote, local, {
    sizeOnly: ctx.options.sizeOnly === true,
    delete: ctx.options.delete === true,
  });
  const report = createReport(ctx, "sync", dryRun);
  report.skipped(plan.unchanged);
  if (dryRun) {
    for (const t of plan.transfer) {
      const target = localPathFor(root, t.source.path);
      report.done(
        {
          action: "download",
          source: s3Url(from.bucket, t.source.key),
          destination: target,
          bytes: t.source.size,
          reason: t.reason,
        },
        `(dryrun) download: ${s3Url(from.bucket, t.source.key)} to ${target}`,
      );
    }
  } else {
    await ensureFolder(root);
    const objects = plan.transfer.map((t) => ({
      key: t.source.key,
      physicalKey: t.source.physicalKey,
      originalBytes: t.source.size,
      relative: t.source.path,
    }));
    const dg = await ctx.services.deltaglider();
    await downloadObjects(ctx, dg, from.bucket, objects, root, report, `sync ${s3Url(from.bucket, prefix)}`);
  }
  for (const d of plan.remove) {
    try {
      if (!dryRun) {
        await removeFile(d.absolute);
        // Folders the deletion emptied go too (not the synced folder itself).
        await rmdir(dirname(d.absolute)).catch(() => undefined);
      }
      report.done(
        { action: "delete", destination: d.absolute, bytes: 0 },
        `${dryRun ? "(dryrun) " : ""}delete: ${d.absolute}`,
      );
    } catch (error) {
      report.failed(d.absolute, error);
    }
  }
  return summarize(ctx, report, plan.transfer.length, plan.remove.length, dryRun);
}

function summarize(
  ctx: CommandContext,
  report: ReturnType<typeof createReport>,
  transfers: number,
  removals: number,
  dryRun: boolean,
) {
  const status = report.finish();
  if (!dryRun && !ctx.quiet && status === 0) {
    if (transfers + removals === 0) ctx.line("Sync completed: already up to date");
    else ctx.line(`Sync completed: ${transfers} transferred, ${removals} deleted`);
  }
  return status;
}

/**
 * `sync SOURCE DEST`: a local folder and an s3:// prefix, either way. Transfers what the destination lacks, what has
 * another size, and (unless --size-only) what is newer at the source; --delete removes what the source lacks.
 */
export const run: Verb = async (ctx, args) => {
  const [source, dest] = args;
  if (isS3Url(source) && isS3Url(dest))
    throw usageError("sync between two s3:// locations is not supported: use migrate");
  if (!isS3Url(source) && !isS3Url(dest)) throw usageError("one of source and destination must be an s3:// URL");
  return isS3Url(dest) ? toS3(ctx, source, parseS3Url(dest)) : fromS3(ctx, parseS3Url(source), dest);
};
