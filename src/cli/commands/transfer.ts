import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PathFilter } from "../../services/bucket-ops/index.js";
import { type PutResult, putLogical } from "../../services/bucket-ops/index.js";
import type { DeltaGlider } from "../../services/deltaglider/index.js";
import { GliderError } from "../../services/errors.js";
import { ensureFolder, writeFileAtomically } from "../local-files.js";
import { counting, type Progress } from "../progress.js";
import type { CommandContext } from "../runtime.js";
import { s3Url } from "../s3-url.js";

/** Shared by cp, sync and migrate: flags, and one object up or down. */
export function pathFilter(ctx: CommandContext): PathFilter {
  return {
    include: (ctx.options.include as string[] | undefined) ?? [],
    exclude: (ctx.options.exclude as string[] | undefined) ?? [],
  };
}

/** `--no-delta` (commander turns it into `delta: false`). */
export function noDelta(ctx: CommandContext): boolean {
  return ctx.options.delta === false;
}

export async function statLocal(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new GliderError("invalid_request", `no such file or directory: ${path}`, { path });
    }
    throw error;
  }
}

export async function uploadPath(
  ctx: CommandContext,
  dg: DeltaGlider,
  path: string,
  bucket: string,
  key: string,
  progress: Progress,
): Promise<PutResult> {
  const body: Readable = path === "-" ? process.stdin : createReadStream(path);
  // The upload reads through async generators, which cannot be returned while they wait for a chunk: destroying the
  // source is what ends a read blocked on stdin (or a slow file) when Ctrl-C arrives.
  const stop = () => body.destroy(ctx.signal.reason instanceof Error ? ctx.signal.reason : undefined);
  ctx.signal.addEventListener("abort", stop, { once: true });
  try {
    return await putLogical(ctx.services.store, dg, bucket, key, counting(progress)(body), {
      noDelta: noDelta(ctx),
      signal: ctx.signal,
    });
  } finally {
    ctx.signal.removeEventListener("abort", stop);
    if (body !== process.stdin) body.destroy();
  }
}

export function describeUpload(r: PutResult): string {
  if (r.storedAs === "delta") {
    const pct = r.originalBytes > 0 ? ((r.storedBytes / r.originalBytes) * 100).toFixed(1) : "0.0";
    return `delta: ${r.storedBytes} bytes, ${pct}% of ${r.originalBytes}`;
  }
  if (r.storedAs === "reference") return `reference: ${r.originalBytes} bytes`;
  return `${r.storedAs}: ${r.originalBytes} bytes`;
}

export function uploadOperation(source: string, bucket: string, r: PutResult) {
  return {
    action: "upload",
    source,
    destination: s3Url(bucket, r.key),
    bytes: r.originalBytes,
    stored_as: r.storedAs,
    stored_bytes: r.storedBytes,
    sha256: r.sha256,
  };
}

/** One object, reconstructed and verified, to a local file (temp name, renamed on success, mtime = the object's). */
export async function downloadTo(
  ctx: CommandContext,
  dg: DeltaGlider,
  bucket: string,
  key: string,
  target: string,
  progress: Progress,
  options: {
    /** A single download: the bar's total is this object's size, known once it is opened. */
    addTotal?: boolean;
    /** The physical object a listing showed for `key`: opened directly (one HEAD instead of two for a delta). */
    physicalKey?: string;
  } = {},
) {
  const { addTotal = false, physicalKey } = options;
  const reconstruction = await dg.open(bucket, key, ctx.signal, { physicalKey });
  if (addTotal) progress.expect(reconstruction.size);
  try {
    await ensureFolder(dirname(target));
  } catch (error) {
    reconstruction.body.destroy();
    throw error;
  }
  await writeFileAtomically(target, reconstruction.body, progress, ctx.signal, reconstruction.object.modified);
  return {
    action: "download",
    source: s3Url(bucket, key),
    destination: target,
    bytes: reconstruction.size,
    sha256: reconstruction.sha256 ?? null,
  };
}

export async function downloadToStdout(ctx: CommandContext, dg: DeltaGlider, bucket: string, key: string) {
  const reconstruction = await dg.open(bucket, key, ctx.signal);
  const progress = ctx.progress(`download ${key}`, { bytes: reconstruction.size });
  try {
    await pipeline(reconstruction.body, counting(progress), process.stdout, { end: false, signal: ctx.signal });
  } finally {
    progress.end();
  }
  return reconstruction.size;
}
