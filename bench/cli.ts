/**
 * `glider` against the DeltaGlider CLI (Python), same machine, same S3 server (s3rver, or RGW), same run:
 *
 *   npm run bench:cli                     full size: 50-object release bucket, 1,000-object sync prefix
 *   BENCH_SCALE=0.02 npm run bench:cli    smoke run (fewer and smaller objects)
 *   BENCH_CLI_CP_RUNS / BENCH_CLI_SYNC_RUNS  repetitions of the slow rows (default 1 and 3)
 *   DELTAGLIDER_CLI=/path/to/deltaglider  the real CLI to compare with (else `deltaglider` on PATH); when neither
 *                                         runs, only Glider's figures are printed, with a note
 *   BENCH_GLIDER=/path/to/bin/glider.js   another glider build to time (default: this checkout's)
 *   BENCH_S3=rgw                          a Ceph RADOS Gateway instead of s3rver (bench/lib/s3.ts)
 *   BENCH_CLI_CASES=sync                  only these rows (comma-separated: version, ls, cp, sync; default all);
 *                                         the buckets the other rows need are then not filled either
 *
 * Rows (wall time of the whole process, median of `runs`; the two CLIs take turns run by run, so a change in the
 * shared machine's load hits both alike): `--version`; `ls` of a small bucket; `cp -r` download of
 * a 50-object release bucket (10 DeltaSpaces, the root one included, 5 versions each) with the completeness of each
 * copy; `sync` of an unchanged 1,000-object prefix (nothing to do: the cost of deciding that). Glider runs compiled
 * (`bin/glider.js` → dist/bundle/cli.cjs: run `npm run build` first). Goals: start-up and ls ≤ 0.5× the real CLI, cp -r
 * ≥ 3× faster, sync ≥ 5× faster.
 *
 * The sync row comes with three bounds, timed in the same turns: `node -e 0` (Node's start), a bare Node process
 * that signs one LIST by hand and counts the keys (bench/cli-probes/bare-list.cjs: the floor of any Node client), and
 * one that only sends that LIST through Glider's S3 store, i.e. the AWS SDK, bundled and run with the code cache as
 * the CLI is (bench/cli-probes/store-list.ts: the floor of any client on `@aws-sdk/client-s3`). Their ratio to the
 * DeltaGlider CLI is the best an unchanged sync could reach on that footing in this run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { builtinsByRequire, commonOptions } from "../scripts/cli-bundle-options.mjs";
import { createS3StoreFor } from "../test/helpers/s3rver.js";
import { nextVersion, noise } from "./lib/data.js";
import { REPO_ROOT } from "./lib/env.js";
import { startS3 } from "./lib/s3.js";

// The SDK's Node-version notice would be printed by this process's own S3 client.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const SCALE = Number(process.env.BENCH_SCALE ?? "1");
/** The glider entry to time (default: this checkout's bin/glider.js); e.g. a saved build of an older commit. */
const GLIDER = process.env.BENCH_GLIDER || join(REPO_ROOT, "bin", "glider.js");
const SPACES = 10;
const VERSIONS = 5;
const RELEASE_BYTES = Math.max(16_384, Math.round(1_000_000 * SCALE));
const SYNC_OBJECTS = Math.max(50, Math.round(1000 * SCALE));
const CASE_NAMES = ["version", "ls", "cp", "sync"];
const CASES = new Set((process.env.BENCH_CLI_CASES || CASE_NAMES.join(",")).split(",").map((c) => c.trim()));
for (const c of CASES) {
  if (!CASE_NAMES.includes(c))
    throw new Error(`BENCH_CLI_CASES: unknown case "${c}" (known: ${CASE_NAMES.join(", ")})`);
}

interface Timed {
  ms: number;
  /** user + system CPU of the process and the children it waited for (xdelta3 for the DeltaGlider CLI). */
  cpuMs?: number;
  status: number | null;
  stderr: string;
}

/** GNU time, when installed: CPU time is a fairer figure than wall time on a shared, loaded machine. */
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Timed {
  const cpuFile = join(tmpdir(), `glider-bench-cpu-${process.pid}`);
  const [cmd, argv] = TIME ? [TIME, ["-f", "%U %S", "-o", cpuFile, command, ...args]] : [command, args];
  const started = performance.now();
  const r = spawnSync(cmd, argv, { env, cwd, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - started;
  if (r.error) throw r.error;
  let cpuMs: number | undefined;
  if (TIME) {
    const [user, sys] = readFileSync(cpuFile, "utf8").trim().split("\n").pop()?.split(" ").map(Number) ?? [];
    if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user + sys) * 1000;
  }
  return { ms, cpuMs, status: r.status, stderr: r.stderr };
}

/** bench:cli's probe bundles (see the header), built as scripts/bundle-cli.mjs builds the CLI. */
async function buildProbes(work: string): Promise<{ bare: string; store: string[] }> {
  const outfile = join(work, "probes", "store-list.cjs");
  await build({
    ...commonOptions,
    entryPoints: [join(REPO_ROOT, "bench", "cli-probes", "store-list.ts")],
    outfile,
    format: "cjs",
    sourcemap: false,
    plugins: [builtinsByRequire],
  });
  return {
    bare: join(REPO_ROOT, "bench", "cli-probes", "bare-list.cjs"),
    store: [join(REPO_ROOT, "bench", "cli-probes", "run-bundle.mjs"), outfile],
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function countFiles(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

function realCli(): string | undefined {
  const candidate = process.env.DELTAGLIDER_CLI || "deltaglider";
  const r = spawnSync(candidate, ["--version"], { stdio: "ignore" });
  return r.error === undefined && r.status === 0 ? candidate : undefined;
}

async function main() {
  if (!process.env.BENCH_GLIDER && !existsSync(join(REPO_ROOT, "dist", "bundle", "cli.cjs"))) {
    throw new Error("dist/bundle/cli.cjs is missing: run `npm run build` first (npm ci does it)");
  }
  const real = realCli();
  const s3 = await startS3();
  const work = await mkdtemp(join(tmpdir(), "glider-bench-cli-"));
  const base = { ...process.env };
  delete base.STORAGE;
  const awsEnv = {
    ...base,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_DEFAULT_REGION: s3.region,
    AWS_ENDPOINT_URL: s3.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    DG_LOG_LEVEL: "WARNING",
  };
  const glider = (args: string[], cwd?: string) => {
    const t = run(process.execPath, [GLIDER, ...args], awsEnv, cwd);
    if (t.cpuMs !== undefined) cpu.glider.push(t.cpuMs);
    return t;
  };
  const dg = (args: string[], cwd?: string) => {
    const t = run(real as string, args, awsEnv, cwd);
    if (t.cpuMs !== undefined) cpu.real.push(t.cpuMs);
    return t;
  };
  const rows: string[][] = [];
  const runs = Math.max(3, Math.round(5 * Math.min(1, SCALE * 5)));
  const cpu = { glider: [] as number[], real: [] as number[] };
  const row = (name: string, g: number[], r: number[] | undefined, goal: string, note = "") => {
    const gm = median(g);
    const rm_ = r ? median(r) : undefined;
    const gc = cpu.glider.length ? median(cpu.glider) : undefined;
    const rc = cpu.real.length ? median(cpu.real) : undefined;
    const cpuNote =
      gc !== undefined
        ? `CPU glider ${gc.toFixed(0)} ms${rc !== undefined ? `, deltaglider ${rc.toFixed(0)} ms (${(rc / gc).toFixed(1)}×)` : ""}`
        : "";
    cpu.glider = [];
    cpu.real = [];
    rows.push([
      name,
      `${gm.toFixed(0)} ms`,
      rm_ === undefined ? "n/a" : `${rm_.toFixed(0)} ms`,
      rm_ === undefined ? "n/a" : `${(gm / rm_).toFixed(2)}× (${(rm_ / gm).toFixed(1)}× faster)`,
      goal,
      [note, cpuNote].filter(Boolean).join("; "),
    ]);
  };
  try {
    const setup = (args: string[], cwd?: string) => {
      const r = glider(args, cwd);
      if (r.status !== 0) throw new Error(`glider ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
    };
    // Buckets: created through the store, filled with glider (the same format the real CLI writes).
    const store = createS3StoreFor(s3);
    for (const b of ["small", "release", "sync"]) await store.createBucket(b);
    await store.close();

    // Small bucket: 10 objects, 2 folders.
    if (CASES.has("ls")) {
      const small = join(work, "small");
      await mkdir(join(small, "docs"), { recursive: true });
      for (let i = 0; i < 8; i++) await writeFile(join(small, `file-${i}.txt`), noise(2000, i));
      await writeFile(join(small, "docs", "a.txt"), "a");
      await writeFile(join(small, "docs", "b.txt"), "b");
      setup(["cp", "-r", "-q", small, "s3://small/"]);
    }

    // Release bucket: 10 DeltaSpaces (the bucket root is one) × 5 versions.
    if (CASES.has("cp")) {
      const release = join(work, "release");
      for (let s = 0; s < SPACES; s++) {
        const dir = s === 0 ? release : join(release, `product-${s}`);
        await mkdir(dir, { recursive: true });
        let bytes = noise(RELEASE_BYTES, 100 + s);
        for (let v = 0; v < VERSIONS; v++) {
          await writeFile(join(dir, `app-${s}-1.${v}.zip`), bytes);
          bytes = nextVersion(bytes, 1000 + s * 10 + v);
        }
      }
      setup(["cp", "-r", "-q", release, "s3://release/"]);
    }

    // Sync prefix: SYNC_OBJECTS small files, uploaded once; the timed syncs find nothing to do.
    const syncDir = join(work, "sync");
    if (CASES.has("sync")) {
      await mkdir(syncDir, { recursive: true });
      for (let i = 0; i < SYNC_OBJECTS; i++) {
        await writeFile(join(syncDir, `item-${String(i).padStart(5, "0")}.json`), `{"i":${i}}\n`);
      }
      setup(["sync", "-q", syncDir, "s3://sync/p/"]);
    }

    const timed = (fn: () => Timed) => {
      const t = fn();
      if (t.status !== 0) throw new Error(`exit ${t.status}: ${t.stderr}`);
      return t.ms;
    };
    /** Runs glider and (when present) the real CLI alternately, `n` times each. */
    const both = (g: () => Timed, r: () => Timed, n = runs) => {
      const out = { glider: [] as number[], real: real ? ([] as number[]) : undefined };
      for (let i = 0; i < n; i++) {
        out.glider.push(timed(g));
        out.real?.push(timed(r));
      }
      return out;
    };
    // Setup runs are not measured.
    cpu.glider = [];
    cpu.real = [];
    if (!real) {
      process.stdout.write(
        "note: the DeltaGlider CLI is not available (set DELTAGLIDER_CLI or put deltaglider on PATH): Glider only\n",
      );
    }
    /** The cp -r row: one download of the release bucket per run, each CLI's copy counted. */
    const copyRow = async () => {
      const cpRuns = Number(process.env.BENCH_CLI_CP_RUNS ?? "1");
      const gCp: number[] = [];
      const rCp: number[] | undefined = real ? [] : undefined;
      let gFiles = 0;
      let realNote = "";
      for (let i = 0; i < cpRuns; i++) {
        const out = join(work, `cp-glider-${i}`);
        const t = glider(["cp", "-r", "-q", "s3://release/", out]);
        if (t.status !== 0) throw new Error(`glider cp -r: exit ${t.status}: ${t.stderr}`);
        gCp.push(t.ms);
        gFiles = await countFiles(out);
        await rm(out, { recursive: true, force: true });
        if (rCp) {
          const realOut = join(work, `cp-real-${i}`);
          const r = dg(["cp", "-r", "-q", "s3://release/", realOut]);
          rCp.push(r.ms);
          if (i === 0)
            realNote = `; deltaglider ${await countFiles(realOut)}/${SPACES * VERSIONS} files, exit ${r.status}`;
          await rm(realOut, { recursive: true, force: true });
        }
      }
      const note = `glider ${gFiles}/${SPACES * VERSIONS} files${realNote}`;
      row(`cp -r s3://release/ (${SPACES * VERSIONS} objects)`, gCp, rCp, "≥ 3× faster", note);
    };
    /** The sync row and its bounds (the probes), all taking turns in the same runs. */
    const syncRows = async () => {
      const syncRuns = Number(process.env.BENCH_CLI_SYNC_RUNS ?? "3");
      const probes = await buildProbes(work);
      const probeEnv = { ...awsEnv, PROBE_BUCKET: "sync", PROBE_PREFIX: "p/", PROBE_KEYS: String(SYNC_OBJECTS) };
      const bounds = [
        { name: "bound: Node's start (`node -e 0`)", args: ["-e", "0"], ms: [] as number[] },
        { name: "bound: bare Node, one hand-signed LIST", args: [probes.bare], ms: [] as number[] },
        { name: "bound: Glider's S3 store (AWS SDK) alone, one LIST", args: probes.store, ms: [] as number[] },
      ];
      // The store probe's first run writes its code cache, as the CLI's first run does.
      for (const b of bounds) if (run(process.execPath, b.args, probeEnv).status !== 0) throw new Error(b.name);
      const sync = both(
        () => {
          for (const b of bounds) b.ms.push(timed(() => run(process.execPath, b.args, probeEnv)));
          return glider(["sync", "-q", syncDir, "s3://sync/p/"]);
        },
        () => dg(["sync", "-q", syncDir, "s3://sync/p/"]),
        syncRuns,
      );
      row(`sync unchanged ${SYNC_OBJECTS}-object prefix`, sync.glider, sync.real, "≥ 5× faster");
      for (const b of bounds) row(b.name, b.ms, sync.real, "(bound)", "the same runs' deltaglider sync");
    };
    if (CASES.has("version")) {
      const version = both(
        () => glider(["--version"]),
        () => dg(["--version"]),
      );
      row("--version", version.glider, version.real, "≤ 0.5×");
    }
    if (CASES.has("ls")) {
      const ls = both(
        () => glider(["ls", "s3://small/"]),
        () => dg(["ls", "s3://small/"]),
      );
      row("ls s3://small/ (10 objects)", ls.glider, ls.real, "≤ 0.5×");
    }
    if (CASES.has("cp")) await copyRow();
    if (CASES.has("sync")) await syncRows();
  } finally {
    await rm(work, { recursive: true, force: true });
    await s3.stop();
  }
  const header = ["case", "glider", "deltaglider 6.1.2", "ratio", "goal", "notes"];
  const lines = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`);
  process.stdout.write(
    `\nglider CLI vs DeltaGlider CLI (BENCH_SCALE=${SCALE}, ${s3.kind}, wall time, median)\n${lines.join("\n")}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
