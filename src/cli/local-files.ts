import { randomBytes } from "node:crypto";
import { createWriteStream, statSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GliderError } from "../services/errors.js";
import { compareKeys } from "../services/storage/index.js";
import { counting, type Progress } from "./progress.js";

/**
 * Streams `body` to a temporary name beside `path` and renames it into place only when the stream ended cleanly,
 * so a failed or interrupted download never leaves a complete-looking file (nor its temporary one).
 */
export async function writeFileAtomically(
  path: string,
  body: Readable,
  progress: Progress,
  signal?: AbortSignal,
  mtime?: Date,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.glider-${process.pid}-${randomBytes(4).toString("hex")}.part`);
  try {
    await pipeline(body, counting(progress), createWriteStream(temp, { flags: "wx" }), { signal });
    // As `aws s3 cp/sync`: the file takes the object's modification time, so a later sync sees it as unchanged.
    if (mtime) await utimes(temp, mtime, mtime);
    signal?.throwIfAborted();
    await rename(temp, path);
  } catch (error) {
    body.destroy();
    await rm(temp, { force: true });
    throw error;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/** A destination named with a trailing separator is a folder even before it exists. */
export function namesFolder(path: string): boolean {
  return path.endsWith("/") || path.endsWith(sep);
}

/**
 * Where an object lands below `root`: its key relative to the copied prefix, `/` segments as folders. Keys that
 * would climb out of `root` (`..`), or name nothing, are refused.
 */
export function localPathFor(root: string, relativeKey: string): string {
  const segments = relativeKey.split("/").filter((s) => s !== "" && s !== ".");
  const refuse = (why: string) =>
    new GliderError("invalid_key", `cannot be written below ${root}: ${why}`, { key: relativeKey });
  if (segments.length === 0) throw refuse("it names no file");
  if (segments.some((s) => s === ".." || s.includes(sep) || s.includes("\0"))) throw refuse("unsafe path segment");
  const target = resolve(root, ...segments);
  const rel = relative(resolve(root), target);
  if (rel === "" || rel.startsWith("..")) throw refuse("outside the destination folder");
  return target;
}

export async function ensureFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

/** Regular files below `root` (following symbolic links to files), as `/`-separated paths in code-point order. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(dir: string, prefix: string) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = `${prefix}${entry.name}`;
      if (entry.isDirectory()) await visit(path, `${rel}/`);
      else if (entry.isFile()) out.push(rel);
      else if (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile()) out.push(rel);
    }
  }
  await visit(root, "");
  return out.sort(compareKeys);
}

/** A local file below a synced or copied folder: `/`-separated relative path, size and modification time. */
export interface LocalFile {
  path: string;
  absolute: string;
  size: number;
  mtimeMs: number;
}

/** Files stat'ed between two turns of the event loop in `scanFiles`. */
const STATS_PER_TURN = 64;

/**
 * `listFiles` with each file's size and modification time (one stat each). The stats are synchronous, a batch per
 * event-loop turn: an awaited `fs.promises.stat` per file cost `sync` of 1,000 files ~50 ms of CPU and, one thread
 * pool round trip after another, finished after the remote listing it runs beside; a synchronous stat is a few
 * microseconds, and yielding between batches lets that listing's request and response go through meanwhile.
 */
export async function scanFiles(root: string): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  for (const rel of await listFiles(root)) {
    if (out.length % STATS_PER_TURN === STATS_PER_TURN - 1) await new Promise((r) => setImmediate(r));
    const absolute = join(root, ...rel.split("/"));
    const info = statSync(absolute);
    out.push({ path: rel, absolute, size: info.size, mtimeMs: info.mtimeMs });
  }
  return out;
}
