/**
 * The shared VCDIFF fixtures (made by real xdelta3): manifest cases, file paths, and the inputs that are too big
 * to commit, regenerated once with generate.sh and cached under os.tmpdir()/glider-vcdiff-inputs/<case>/<sha>.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { VCDIFF_FIXTURES } from "./shared.js";

export type VcdiffErrorClass = "invalid_format" | "truncated" | "checksum_mismatch" | "unsupported" | "limit_exceeded";

export interface VcdiffFixtureWindow {
  win_indicator: string[];
  delta_indicator: string[];
  target_window_length: number;
  data_len: number;
  inst_len: number;
  addr_len: number;
  copy_window_length?: number;
  copy_window_offset?: number;
  adler32?: string;
  source_range_used?: [number, number];
}

export interface VcdiffCase {
  name: string;
  kind: "valid" | "corrupt";
  description?: string;
  files: { source: string | null; target: string | null; delta: string };
  inputs?: { committed: boolean; has_source: boolean; regenerate?: string };
  xdelta3?: { encode: string; flags: string[]; decode: string };
  source_size?: number;
  target_size: number;
  delta_size: number;
  sha256: { source?: string; target: string; delta: string };
  headers?: {
    header_indicator: string[];
    secondary: string;
    apphead: string | null;
    windows: number;
    window_list: VcdiffFixtureWindow[];
    header_size: number;
  };
  instruction_stats?: Record<string, unknown>;
  expect?: {
    outcome: "error" | "short_output";
    error_class: VcdiffErrorClass | null;
    also_acceptable?: VcdiffErrorClass[];
    reason?: string;
    output_size?: number;
    output_sha256?: string;
  };
}

export const VCDIFF_MANIFEST: { cases: VcdiffCase[] } = JSON.parse(
  readFileSync(join(VCDIFF_FIXTURES, "manifest.json"), "utf8"),
);
export const VCDIFF_CASES: VcdiffCase[] = VCDIFF_MANIFEST.cases;

export function vcdiffCase(name: string): VcdiffCase {
  const found = VCDIFF_CASES.find((c) => c.name === name);
  if (!found) throw new Error(`no VCDIFF fixture case ${name}`);
  return found;
}

/** Absolute path of a manifest `files.*` entry. */
export function fixturePath(relative: string): string {
  return join(VCDIFF_FIXTURES, relative);
}

export const hasXdelta3 = spawnSync("xdelta3", ["-V"], { stdio: "ignore" }).status === 0;

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  return hash.digest("hex");
}

export interface CaseFiles {
  delta: string;
  /** null when the case has no source. */
  source: string | null;
  /** null for corrupt cases whose target is not given. */
  target: string | null;
}

const CACHE_ROOT = join(tmpdir(), "glider-vcdiff-inputs");
const pending = new Map<string, Promise<{ source: string; target: string }>>();

/** Paths of a case's files, regenerating (once, cached across runs) inputs that are not committed. */
export async function caseFiles(c: VcdiffCase): Promise<CaseFiles> {
  const delta = fixturePath(c.files.delta);
  if (c.inputs?.committed === false) {
    let generated = pending.get(c.name);
    if (!generated) {
      generated = generateInputs(c);
      pending.set(c.name, generated);
    }
    const { source, target } = await generated;
    return { delta, source: c.inputs.has_source ? source : null, target };
  }
  return {
    delta,
    source: c.files.source ? fixturePath(c.files.source) : null,
    target: c.files.target ? fixturePath(c.files.target) : null,
  };
}

/** Whole files in memory; fine for committed cases, avoid for the generated big ones. */
export async function readCase(
  c: VcdiffCase,
): Promise<{ delta: Uint8Array; source: Uint8Array | null; target: Uint8Array | null }> {
  const files = await caseFiles(c);
  return {
    delta: await readFile(files.delta),
    source: files.source ? await readFile(files.source) : null,
    target: files.target ? await readFile(files.target) : null,
  };
}

async function generateInputs(c: VcdiffCase): Promise<{ source: string; target: string }> {
  const dir = join(CACHE_ROOT, c.name, c.sha256.target.slice(0, 16));
  const paths = { source: join(dir, "source.bin"), target: join(dir, "target.bin") };
  if (isComplete(dir, c)) return paths;
  await mkdir(join(CACHE_ROOT, c.name), { recursive: true });
  // Generate beside the final place and rename, so parallel test workers never see a half-written directory.
  const work = await mkdtemp(join(CACHE_ROOT, c.name, ".tmp-"));
  try {
    await promisify(execFile)("bash", [join(VCDIFF_FIXTURES, "generate.sh"), "--inputs", c.name, work], {
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const kind of ["source", "target"] as const) {
      const expected = c.sha256[kind];
      const actual = await sha256File(join(work, `${kind}.bin`));
      if (actual !== expected)
        throw new Error(`${c.name}: regenerated ${kind}.bin has sha256 ${actual}, want ${expected}`);
    }
    await writeFile(join(work, ".verified"), JSON.stringify(c.sha256));
    try {
      await rename(work, dir);
    } catch (error) {
      if (!isComplete(dir, c)) throw error; // otherwise another worker finished first
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return paths;
}

function isComplete(dir: string, c: VcdiffCase): boolean {
  try {
    return (
      existsSync(join(dir, ".verified")) &&
      statSync(join(dir, "source.bin")).size === c.source_size &&
      statSync(join(dir, "target.bin")).size === c.target_size
    );
  } catch {
    return false;
  }
}

/** Deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Feeds `bytes` as an async stream of random-sized chunks (1..maxChunk bytes). */
export async function* randomChunks(
  bytes: Uint8Array,
  random: () => number,
  maxChunk = 4096,
): AsyncGenerator<Uint8Array> {
  let offset = 0;
  while (offset < bytes.length) {
    const n = 1 + Math.floor(random() * maxChunk);
    yield bytes.subarray(offset, offset + n);
    offset += n;
  }
}
