import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file lives in bench/lib). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** `BENCH_SCALE` (default 1) scales input sizes and counts down for a smoke run, e.g. 0.02. */
export const SCALE = (() => {
  const raw = process.env.BENCH_SCALE ?? "1";
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new Error(`BENCH_SCALE must be a number in (0, 1] (got "${raw}")`);
  return n;
})();

/** Sizes are decimal: 1 MB = 1,000,000 bytes, MB/s likewise (SEND_MAX_BYTES is 100,000,000: "100 MB"). */
export const MB = 1_000_000;

/** `n × BENCH_SCALE`, rounded, at least `floor`. */
export function scaled(n: number, floor = 1): number {
  return Math.max(floor, Math.round(n * SCALE));
}

/** Set `BENCH_CPU_PROF=<dir>` to start every Glider child with `--cpu-prof` writing into that folder. */
export const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;

/** A temp folder for one part, removed by the returned `cleanup`. */
export async function tempDir(name: string): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `glider-bench-${name}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Progress lines go to stderr so stdout keeps the tables. */
export function log(part: string, message: string): void {
  process.stderr.write(`[${part}] ${message}\n`);
}

/** Things a part started (servers, temp folders), released in reverse order even when the part fails. */
export class Resources {
  private readonly stack: { what: string; release: () => Promise<void> }[] = [];

  /** Registers `release` and returns `value`, so `const s3 = resources.add(await startS3(), (s) => s.stop())`. */
  add<T>(value: T, release: (value: T) => Promise<void>, what = "resource"): T {
    this.stack.push({ what, release: () => release(value) });
    return value;
  }

  async releaseAll(): Promise<void> {
    const errors: unknown[] = [];
    while (this.stack.length > 0) {
      const { what, release } = this.stack.pop() as { what: string; release: () => Promise<void> };
      try {
        await release();
      } catch (error) {
        errors.push(new Error(`releasing ${what}: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** True when `command` runs (e.g. xdelta3 on PATH). */
export function onPath(command: string): boolean {
  return spawnSync(command, ["-V"], { stdio: "ignore" }).error === undefined;
}

/** Runs a command to completion (no shell) and returns its wall time in ms; throws on a non-zero exit. */
export function runTimed(command: string, args: string[]): number {
  const started = performance.now();
  const result = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  const ms = performance.now() - started;
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: exit ${result.status}: ${result.stderr}`);
  return ms;
}
