/**
 * The reference tool, xdelta3 3.0.11, run as a child process for differential tests. `-D` keeps it from
 * decompressing gzip-looking sources and targets itself (Glider never does), `-c` writes to stdout. `-B` (source
 * buffer) is sized to the source: the default 64 MiB costs ~0.5 s of page faults per call, and any -B at least the
 * source size gives byte-identical deltas.
 */
import { execFile, spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";

export interface Xdelta3Result {
  ok: boolean;
  stdout: Buffer;
  /** xdelta3's message when it refused (first line without the "xdelta3: " prefix). */
  error: string;
  /** It ran past its time limit and was killed. */
  hung?: boolean;
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

export interface BatchItem {
  delta: string;
  source: SourceFile | null;
}

/**
 * `xdelta3 -d` on many deltas from one shell process: a spawn from Node costs far more than xdelta3's own work on a
 * small delta, a spawn from sh much less. Each delta's output, message and status land beside it (`.out`, `.err`,
 * `.rc`). A batch running past `timeoutSeconds` is killed: the delta without a status is the one that hung, and the
 * ones after it are run again in a new batch.
 */
export async function xdelta3DecodeBatch(items: BatchItem[], timeoutSeconds = 60): Promise<Xdelta3Result[]> {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const lines = items.map((item) => {
    const args = ["-D", "-d", "-c", ...sourceArgs(item.source), item.delta].map(quote).join(" ");
    const d = quote(item.delta);
    return `xdelta3 ${args} > ${d}.out 2> ${d}.err; echo $? > ${d}.rc`;
  });
  // Its own process group, so a hung xdelta3 is killed with its shell (by group id), not left running.
  const timedOut = await new Promise<boolean>((resolve, reject) => {
    const child = spawn("sh", ["-c", `command -v xdelta3 >/dev/null || exit 127\n${lines.join("\n")}`], {
      detached: true,
      stdio: "ignore",
    });
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, timeoutSeconds * 1000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (killed) resolve(true);
      else if (code === 127) {
        reject(new Error("xdelta3 is not installed (apt-get install xdelta3); the differential tests need it"));
      } else if (code !== 0) reject(new Error(`xdelta3 batch shell exited with ${code}`));
      else resolve(false);
    });
  });
  const results: Xdelta3Result[] = [];
  for (const [k, item] of items.entries()) {
    const rc = await readFile(`${item.delta}.rc`, "utf8").catch(() => "");
    if (rc.trim() === "") {
      if (!timedOut) throw new Error(`xdelta3 batch left no status for ${item.delta}`);
      // This one hung (the shell, and with it xdelta3, was killed); the rest still need a run.
      results.push({ ok: false, stdout: Buffer.alloc(0), error: `hung: killed after ${timeoutSeconds} s`, hung: true });
      results.push(...(await xdelta3DecodeBatch(items.slice(k + 1), timeoutSeconds)));
      break;
    }
    const status = Number(rc.trim());
    const stdout = await readFile(`${item.delta}.out`);
    const message = (await readFile(`${item.delta}.err`, "utf8")).split("\n")[0].replace(/^xdelta3: /, "");
    results.push({ ok: status === 0, stdout, error: message });
  }
  await Promise.all(
    items.flatMap((item) => [".out", ".err", ".rc", ""].map((ext) => rm(`${item.delta}${ext}`, { force: true }))),
  );
  return results;
}
