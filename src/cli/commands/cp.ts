import { basename, join, resolve } from "node:path";
import {
  assertBucket,
  copyLogical,
  folderPrefix,
  listLogical,
  planMigration,
  selects,
} from "../../services/bucket-ops/index.js";
import type { DeltaGlider } from "../../services/deltaglider/index.js";
import { usageError } from "../errors.js";
import { ensureFolder, isDirectory, localPathFor, namesFolder, scanFiles } from "../local-files.js";
import { createSpaceGates, forEachConcurrent } from "../pool.js";
import { type CommandContext, createReport, type Verb } from "../runtime.js";
import { isS3Url, parseS3Url, type S3Location, s3Url } from "../s3-url.js";
import {
  describeUpload,
  downloadTo,
  downloadToStdout,
  noDelta,
  pathFilter,
  statLocal,
  uploadOperation,
  uploadPath,
} from "./transfer.js";

const lastSegment = (key: string) => key.slice(key.lastIndexOf("/") + 1);

/**
 * The DeltaSpace rules, imported when a transfer starts: a static import would make `sync` and `cp` downloads load
 * the codec and the encode pool (the deltaglider module) just to compare listings. Uploads have loaded it already.
 */
const spaceRules = () => import("../../services/deltaglider/index.js");

async function uploadOne(ctx: CommandContext, dg: DeltaGlider, source: string, to: S3Location) {
  let key = to.key;
  let total: number | undefined;
  if (source === "-") {
    if (key === "" || key.endsWith("/")) throw usageError("uploading stdin needs a full key: s3://BUCKET/KEY");
  } else {
    const info = await statLocal(source);
    if (info.isDirectory()) throw usageError(`${source} is a directory: use cp -r`);
    // A destination ending in "/" (or the bucket itself) is a folder: the file keeps its name inside it.
    if (key === "" || key.endsWith("/")) key += basename(source);
    total = info.size;
  }
  const report = createReport(ctx, "cp");
  const progress = ctx.progress(`upload ${key}`, { bytes: total });
  try {
    const r = await uploadPath(ctx, dg, source, to.bucket, key, progress);
    report.done(
      uploadOperation(source, to.bucket, r),
      `upload: '${source}' to '${s3Url(to.bucket, r.key)}' (${describeUpload(r)})`,
    );
  } finally {
    progress.end();
  }
  return report.finish();
}

async function downloadOne(ctx: CommandContext, dg: DeltaGlider, from: S3Location, dest: string) {
  const { bucket, key } = from;
  if (key === "" || key.endsWith("/")) throw usageError(`${s3Url(bucket, key)} names a folder: use cp -r`);
  const report = createReport(ctx, "cp");
  if (dest === "-") {
    if (ctx.json) throw usageError("--json cannot be combined with writing the object to stdout");
    await downloadToStdout(ctx, dg, bucket, key);
    return 0;
  }
  const target = namesFolder(dest) || (await isDirectory(dest)) ? join(dest, lastSegment(key)) : dest;
  const progress = ctx.progress(`download ${key}`);
  try {
    const op = await downloadTo(ctx, dg, bucket, key, target, progress, { addTotal: true });
    report.done(op, `download: '${op.source}' to '${target}' (${op.bytes} bytes)`);
  } finally {
    progress.end();
  }
  return report.finish();
}

async function copyOne(ctx: CommandContext, dg: DeltaGlider, from: S3Location, to: S3Location) {
  if (from.key === "" || from.key.endsWith("/"))
    throw usageError(`${s3Url(from.bucket, from.key)} names a folder: use cp -r`);
  const key = to.key === "" || to.key.endsWith("/") ? `${to.key}${lastSegment(from.key)}` : to.key;
  await assertBucket(ctx.services.store, to.bucket, ctx.services.hiddenBuckets, ctx.signal);
  const report = createReport(ctx, "cp");
  const progress = ctx.progress(`copy ${from.key}`);
  try {
    const r = await copyLogical(
      ctx.services.store,
      dg,
      from,
      { bucket: to.bucket, key },
      {
        noDelta: noDelta(ctx),
        signal: ctx.signal,
        onBytes: (n) => progress.bytes(n),
      },
    );
    report.done(
      { ...uploadOperation(s3Url(from.bucket, from.key), to.bucket, r), action: "copy", server_side: r.serverSide },
      `copy: '${s3Url(from.bucket, from.key)}' to '${s3Url(to.bucket, key)}' (${describeUpload(r)})`,
    );
  } finally {
    progress.end();
  }
  return report.finish();
}

/** Every selected file below `source` to `prefix/<relative path>`, `jobs` at a time; each DeltaSpace's first candidate first. */
export async function uploadFiles(
  ctx: CommandContext,
  dg: DeltaGlider,
  files: { path: string; absolute: string; size: number }[],
  bucket: string,
  prefix: string,
  report: ReturnType<typeof createReport>,
  label: string,
) {
  const progress = ctx.progress(label, {
    bytes: files.reduce((n, f) => n + f.size, 0),
    items: files.length,
  });
  const gated = createSpaceGates();
  const { deltaSpaceOf, isDeltaCandidate } = await spaceRules();
  try {
    await forEachConcurrent(
      files,
      ctx.jobs,
      async (file) => {
        const key = `${prefix}${file.path}`;
        const upload = () => uploadPath(ctx, dg, file.absolute, bucket, key, progress);
        const r = isDeltaCandidate(key) && !noDelta(ctx) ? await gated(deltaSpaceOf(key), upload) : await upload();
        progress.item();
        report.done(
          uploadOperation(file.absolute, bucket, r),
          `upload: '${file.absolute}' to '${s3Url(bucket, r.key)}' (${describeUpload(r)})`,
        );
      },
      (file, error) => report.failed(file.absolute, error),
      ctx.signal,
    );
  } finally {
    progress.end();
  }
}

async function uploadTree(ctx: CommandContext, dg: DeltaGlider, source: string, to: S3Location) {
  if (source === "-") throw usageError("cp -r cannot read stdin");
  if (!(await statLocal(source)).isDirectory()) throw usageError(`${source} is not a directory`);
  await assertBucket(ctx.services.store, to.bucket, ctx.services.hiddenBuckets, ctx.signal);
  const filter = pathFilter(ctx);
  const files = (await scanFiles(source)).filter((f) => selects(filter, f.path));
  const report = createReport(ctx, "cp");
  const prefix = folderPrefix(to.key);
  await uploadFiles(ctx, dg, files, to.bucket, prefix, report, `upload ${s3Url(to.bucket, prefix)}`);
  return report.finish();
}

/** Every selected logical object below the prefix into `dest/<key relative to the prefix>`, `jobs` at a time. */
export async function downloadObjects(
  ctx: CommandContext,
  dg: DeltaGlider,
  bucket: string,
  /** `physicalKey`: what the listing showed (skips resolving the key again). */
  objects: { key: string; physicalKey?: string; originalBytes: number; relative: string }[],
  root: string,
  report: ReturnType<typeof createReport>,
  label: string,
) {
  const progress = ctx.progress(label, {
    bytes: objects.reduce((n, o) => n + o.originalBytes, 0),
    items: objects.length,
  });
  try {
    await forEachConcurrent(
      objects,
      ctx.jobs,
      async (o) => {
        if (o.key.endsWith("/")) {
          // A folder marker (a zero-byte "name/" object, as consoles create): a folder, not a file.
          await ensureFolder(o.relative === "" ? root : localPathFor(root, o.relative));
        } else {
          const op = await downloadTo(ctx, dg, bucket, o.key, localPathFor(root, o.relative), progress, {
            physicalKey: o.physicalKey,
          });
          report.done(op, `download: '${op.source}' to '${op.destination}' (${op.bytes} bytes)`);
        }
        progress.item();
      },
      (o, error) => report.failed(s3Url(bucket, o.key), error),
      ctx.signal,
    );
  } finally {
    progress.end();
  }
}

async function downloadTree(ctx: CommandContext, dg: DeltaGlider, from: S3Location, dest: string) {
  if (dest === "-") throw usageError("cp -r cannot write to stdout");
  const prefix = folderPrefix(from.key);
  const filter = pathFilter(ctx);
  const listing = await listLogical(dg.catalogue, from.bucket, prefix, {
    recursive: true,
    // Original sizes (a HEAD per delta) only feed the progress bar's total.
    originalSizes: ctx.progressEnabled,
    signal: ctx.signal,
  });
  const objects = listing.objects
    .map((o) => ({ ...o, relative: o.key.slice(prefix.length) }))
    .filter((o) => selects(filter, o.relative));
  const root = resolve(dest);
  await ensureFolder(root);
  const report = createReport(ctx, "cp");
  await downloadObjects(ctx, dg, from.bucket, objects, root, report, `download ${s3Url(from.bucket, prefix)}`);
  return report.finish();
}

/** `cp -r s3://… s3://…`: as the DeltaGlider CLI, a migration that keeps the source folder's name and skips what is there. */
async function copyTree(ctx: CommandContext, dg: DeltaGlider, from: S3Location, to: S3Location) {
  const plan = await planMigration(ctx.services.store, dg, {
    source: from,
    dest: to,
    filter: pathFilter(ctx),
    preservePrefix: true,
    signal: ctx.signal,
  });
  const report = createReport(ctx, "cp");
  report.skipped(plan.alreadyMigrated);
  const progress = ctx.progress(`copy ${s3Url(from.bucket, plan.sourcePrefix)}`, {
    bytes: plan.items.reduce((n, i) => n + i.bytes, 0),
    items: plan.items.length,
  });
  const gated = createSpaceGates();
  const { deltaSpaceOf, isDeltaCandidate } = await spaceRules();
  try {
    await forEachConcurrent(
      plan.items,
      ctx.jobs,
      async (item) => {
        const copy = () =>
          copyLogical(
            ctx.services.store,
            dg,
            { bucket: from.bucket, key: item.sourceKey },
            { bucket: to.bucket, key: item.destKey },
            {
              noDelta: noDelta(ctx),
              signal: ctx.signal,
              onBytes: (n) => progress.bytes(n),
            },
          );
        const r = isDeltaCandidate(item.destKey) ? await gated(deltaSpaceOf(item.destKey), copy) : await copy();
        progress.item();
        report.done(
          {
            ...uploadOperation(s3Url(from.bucket, item.sourceKey), to.bucket, r),
            action: "copy",
            server_side: r.serverSide,
          },
          `copy: '${s3Url(from.bucket, item.sourceKey)}' to '${s3Url(to.bucket, item.destKey)}' (${describeUpload(r)})`,
        );
      },
      (item, error) => report.failed(s3Url(from.bucket, item.sourceKey), error),
      ctx.signal,
    );
  } finally {
    progress.end();
  }
  return report.finish();
}

/**
 * `cp [-r] SOURCE DEST`: local path (or `-`) to s3://, s3:// to local path (or `-`), or s3:// to s3://. Downloads are
 * reconstructed and verified; uploads are stored as DeltaGlider stores them (`--no-delta`: plain objects).
 */
export const run: Verb = async (ctx, args) => {
  const [source, dest] = args;
  const recursive = ctx.options.recursive === true;
  const dg = await ctx.services.deltaglider();
  if (isS3Url(source) && isS3Url(dest)) {
    const from = parseS3Url(source);
    const to = parseS3Url(dest);
    return recursive ? copyTree(ctx, dg, from, to) : copyOne(ctx, dg, from, to);
  }
  if (isS3Url(source)) {
    const from = parseS3Url(source);
    return recursive ? downloadTree(ctx, dg, from, dest) : downloadOne(ctx, dg, from, dest);
  }
  if (isS3Url(dest)) {
    const to = parseS3Url(dest);
    return recursive ? uploadTree(ctx, dg, source, to) : uploadOne(ctx, dg, source, to);
  }
  throw usageError("one of source and destination must be an s3:// URL");
};
