/**
 * The reference tool, xdelta3 3.0.11, run as a child process for differential tests. `-D` keeps it from
 * decompressing gzip-looking sources and targets itself (Glider never does), `-c` writes to stdout. `-B` (source
 * buffer) is sized to the source: the default 64 MiB costs ~0.5 s of page faults per call, and any -B at least the
 * source size gives byte-identical deltas.
 */
import { execFile } from "node:child_process";

export interface Xdelta3Result {
  ok: boolean;
  stdout: Buffer;
  /** xdelta3's message when it refused (first line without the "xdelta3: " prefix). */
  error: string;
}

function run(args: string[], timeoutMs: number): Promise<Xdelta3Result> {
  return new Promise((resolve, reject) => {
    execFile(
      "xdelta3",
      args,
      { encoding: "buffer", maxBuffer: 1 << 30, timeout: timeoutMs, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
          reject(new Error("xdelta3 is not installed (apt-get install xdelta3); the differential tests need it"));
          return;
        }
        if (error?.killed) {
          reject(new Error(`xdelta3 ${args.join(" ")} hung for ${timeoutMs} ms`));
          return;
        }
        const message = stderr
          .toString()
          .split("\n")[0]
          .replace(/^xdelta3: /, "");
        resolve({ ok: !error, stdout, error: message });
      },
    );
  });
}

/** `xdelta3 -d`: the target, or its refusal. */
export function xdelta3Decode(deltaPath: string, source: SourceFile | null, timeoutMs = 60_000) {
  return run(["-D", "-d", "-c", ...sourceArgs(source), deltaPath], timeoutMs);
}

/** `xdelta3 -e -9`: the reference delta. */
export function xdelta3Encode(targetPath: string, source: SourceFile | null, timeoutMs = 120_000) {
  return run(["-D", "-e", "-9", "-c", ...sourceArgs(source), targetPath], timeoutMs);
}

export interface SourceFile {
  path: string;
  size: number;
}

function sourceArgs(source: SourceFile | null): string[] {
  if (!source) return [];
  let buffer = 1 << 20;
  while (buffer < source.size && buffer < 1 << 26) buffer *= 2;
  return ["-B", String(buffer), "-s", source.path];
}

/** Runs async jobs with at most `limit` in flight; `add` waits while the pool is full. */
export class JobPool {
  private readonly running = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(private readonly limit: number) {}

  async add(job: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure) throw this.failure;
    const p: Promise<void> = job()
      .catch((error) => {
        this.failure ??= error;
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure;
  }
}
