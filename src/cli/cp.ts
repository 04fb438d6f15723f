import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { LogicalEntry } from "../services/deltaglider/catalogue.js";
import type { Reconstruction } from "../services/deltaglider/reconstruct.js";
import type { UploadResult } from "../services/deltaglider/upload.js";
import { GliderError } from "../services/errors.js";
import type { Command, CommandContext } from "./context.js";
import { usageError } from "./errors.js";
import { ensureFolder, isDirectory, listFiles, localPathFor, namesFolder, writeFileAtomically } from "./local-files.js";
import { counting, createProgress, type Progress } from "./progress.js";
import { folderPrefix, isS3Url, parseS3Url, type S3Location, s3Url } from "./s3-url.js";

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

async function statLocal(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new GliderError("invalid_request", `no such file or directory: ${path}`, { path });
    }
    throw error;
  }
}

/** One verified object → a local file (temp name, renamed on success). */
async function downloadTo(ctx: CommandContext, reconstruction: Reconstruction, target: string, progress: Progress) {
  try {
    await ensureFolder(dirname(target));
  } catch (error) {
    reconstruction.body.destroy();
    throw error;
  }
  await writeFileAtomically(target, reconstruction.body, progress, ctx.signal);
  return {
    key: reconstruction.object.key,
    path: target,
    original_bytes: reconstruction.size,
    sha256: reconstruction.sha256 ?? null,
  };
}

function printDownload(ctx: CommandContext, bucket: string, report: { key: string; path: string }, line = false) {
  if (ctx.options.json) (line ? ctx.printJsonLine : ctx.printJson)(report);
  else ctx.print(`download: ${s3Url(bucket, report.key)} to ${report.path}`);
}

async function downloadOne(ctx: CommandContext, from: S3Location, dest: string): Promise<number> {
  const { bucket, key } = from;
  if (key === "" || key.endsWith("/")) throw usageError(`${s3Url(bucket, key)} names a folder: use cp -r`);
  if (dest === "-") {
    if (ctx.options.json) throw usageError("--json cannot be combined with writing the object to stdout");
    const reconstruction = await ctx.services.deltaglider.open(bucket, key, ctx.signal);
    const progress = createProgress({ label: `download ${key}`, totalBytes: reconstruction.size });
    try {
      await pipeline(reconstruction.body, counting(progress), process.stdout, { end: false, signal: ctx.signal });
    } finally {
      progress.end();
    }
    return 0;
  }
  const target = namesFolder(dest) || (await isDirectory(dest)) ? join(dest, lastSegment(key)) : dest;
  const reconstruction = await ctx.services.deltaglider.open(bucket, key, ctx.signal);
  const progress = createProgress({ label: `download ${key}`, totalBytes: reconstruction.size });
  let report: Awaited<ReturnType<typeof downloadTo>>;
  try {
    report = await downloadTo(ctx, reconstruction, target, progress);
  } finally {
    progress.end();
  }
  printDownload(ctx, bucket, report);
  return 0;
}

/**
 * Every logical object below the prefix into `dest/<key relative to the prefix>`, a few at a time. A failed object
 * is reported on stderr and the others carry on; the exit status says whether anything failed.
 */
async function downloadTree(ctx: CommandContext, from: S3Location, dest: string): Promise<number> {
  if (dest === "-") throw usageError("cp -r cannot write to stdout");
  const bucket = from.bucket;
  const prefix = folderPrefix(from.key);
  const root = resolve(dest);
  const { deltaglider } = ctx.services;
  const signal = ctx.signal;

  const entries = (async function* () {
    for await (const page of deltaglider.catalogue.walk(bucket, prefix, signal)) yield* page.entries;
  })();
  let listingError: unknown;
  // Async generators queue concurrent next() calls, so the workers can share one listing.
  async function next(): Promise<LogicalEntry | undefined> {
    if (listingError !== undefined || signal.aborted) return undefined;
    try {
      const step = await entries.next();
      return step.done ? undefined : step.value;
    } catch (error) {
      listingError ??= error;
      return undefined;
    }
  }

  const progress = createProgress({ label: `download ${s3Url(bucket, prefix)}` });
  let failures = 0;
  async function worker() {
    for (let entry = await next(); entry; entry = await next()) {
      try {
        const relativeKey = entry.key.slice(prefix.length);
        if (entry.key.endsWith("/")) {
          // A folder marker (a zero-byte "name/" object, as consoles create): a folder, not a file.
          await ensureFolder(relativeKey === "" ? root : localPathFor(root, relativeKey));
        } else {
          const target = localPathFor(root, relativeKey);
          const reconstruction = await deltaglider.open(bucket, entry.key, signal);
          printDownload(ctx, bucket, await downloadTo(ctx, reconstruction, target, progress), true);
        }
        progress.item();
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        ctx.report(error, s3Url(bucket, entry.key));
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: ctx.options.concurrency }, worker));
  } finally {
    progress.end();
  }
  if (listingError !== undefined) throw listingError;
  signal.throwIfAborted();
  return failures > 0 ? 1 : 0;
}

async function uploadFile(ctx: CommandContext, bucket: string, key: string, body: Readable, progress: Progress) {
  try {
    return await ctx.services.deltaglider.upload(bucket, key, counting(progress)(body), ctx.signal);
  } finally {
    if (body !== process.stdin) body.destroy();
  }
}

function printUpload(ctx: CommandContext, bucket: string, source: string, result: UploadResult, line = false) {
  if (ctx.options.json) {
    const report = {
      key: result.key,
      stored_as: result.storedAs,
      original_bytes: result.originalBytes,
      stored_bytes: result.storedBytes,
    };
    (line ? ctx.printJsonLine : ctx.printJson)(report);
  } else {
    ctx.print(
      `upload: ${source} to ${s3Url(bucket, result.key)} (${result.storedAs}, ${result.originalBytes} bytes stored as ${result.storedBytes})`,
    );
  }
}

async function uploadOne(ctx: CommandContext, source: string, to: S3Location): Promise<number> {
  const { bucket } = to;
  let key = to.key;
  let body: Readable;
  let totalBytes: number | undefined;
  if (source === "-") {
    if (key === "" || key.endsWith("/")) throw usageError("uploading stdin needs a full key: s3://BUCKET/KEY");
    body = process.stdin;
  } else {
    const info = await statLocal(source);
    if (info.isDirectory()) throw usageError(`${source} is a directory: use cp -r`);
    if (key === "" || key.endsWith("/")) key += basename(source);
    totalBytes = info.size;
    body = createReadStream(source);
  }
  const progress = createProgress({ label: `upload ${key}`, totalBytes });
  let result: UploadResult;
  try {
    result = await uploadFile(ctx, bucket, key, body, progress);
  } finally {
    progress.end();
  }
  printUpload(ctx, bucket, source, result);
  return 0;
}

/** Every file below `source`, in code-point order of their paths, one after the other (the first file in a folder becomes its reference, as with DeltaGlider). */
async function uploadTree(ctx: CommandContext, source: string, to: S3Location): Promise<number> {
  if (source === "-") throw usageError("cp -r cannot read stdin");
  if (!(await statLocal(source)).isDirectory()) throw usageError(`${source} is not a directory`);
  const { bucket } = to;
  const prefix = folderPrefix(to.key);
  if (!(await ctx.services.store.bucketExists(bucket, ctx.signal))) {
    throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
  }
  const files = await listFiles(source);
  const progress = createProgress({ label: `upload ${s3Url(bucket, prefix)}`, totalItems: files.length });
  let failures = 0;
  try {
    for (const rel of files) {
      if (ctx.signal.aborted) break;
      const path = join(source, rel);
      try {
        printUpload(
          ctx,
          bucket,
          path,
          await uploadFile(ctx, bucket, `${prefix}${rel}`, createReadStream(path), progress),
          true,
        );
        progress.item();
      } catch (error) {
        if (ctx.signal.aborted) break;
        failures++;
        ctx.report(error, path);
      }
    }
  } finally {
    progress.end();
  }
  ctx.signal.throwIfAborted();
  return failures > 0 ? 1 : 0;
}

/**
 * `cp [-r] [--json] SRC DST`: one side is `s3://BUCKET/KEY` (or a prefix with `-r`), the other a local path or `-`
 * (stdin/stdout). Downloads are reconstructed and verified; uploads are stored as DeltaGlider would store them.
 */
export const cp: Command = async (ctx, args) => {
  if (args.length !== 2) throw usageError("cp takes a source and a destination");
  const [source, dest] = args;
  if (isS3Url(source) && isS3Url(dest)) throw usageError("copies between two s3:// locations are not supported");
  if (isS3Url(source)) {
    const from = parseS3Url(source);
    return ctx.options.recursive ? downloadTree(ctx, from, dest) : downloadOne(ctx, from, dest);
  }
  if (isS3Url(dest)) {
    const to = parseS3Url(dest);
    return ctx.options.recursive ? uploadTree(ctx, source, to) : uploadOne(ctx, source, to);
  }
  throw usageError("one of source and destination must be an s3:// URL");
};
