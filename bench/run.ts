/**
 * End-to-end benchmarks: each part starts s3rver and a Glider server (a child process: `node --import tsx
 * src/main.ts`, PORT=0) on 127.0.0.1, generates its data in a temp folder, and compares Glider against a baseline
 * measured in the same run on the same machine.
 *
 *   npm run bench                      every part below, then bench:vcdiff and bench:savings (when defined)
 *   npm run bench:<part>               one part: download upload listing graphql memory transfer responsiveness scale
 *   BENCH_SCALE=0.02 npm run bench     smoke run: sizes and counts scaled down (the CI runs this)
 *   BENCH_MARKDOWN=1                   also print the table as Markdown (for bench/RESULTS.md)
 *   BENCH_LISTING_COLD_OBJECTS=n       folder size of the listing part's cold (s3rver) figures (default 20,000)
 *   BENCH_CPU_PROF=.tmp/prof npm run bench:download   Glider children run with --cpu-prof, one folder per server;
 *     summarise with `npx tsx bench/profile.ts <folder>/CPU.<…>.0.001.cpuprofile` (thread 0 is the main thread)
 *
 * Prints a table (figure / baseline / ratio / goal, with notes: sample counts, CPU per process, Glider's storage
 * calls and GC from its /metrics) and writes bench/results/<date>.json. Exits 1 only when a part fails to run; a
 * missed goal is reported, never an error. Shared code is in bench/lib, one file per part in bench/parts.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, Resources, SCALE } from "./lib/env.js";
import type { Part } from "./lib/part.js";
import { markdownTable, type PartResult, type Row, textTable, writeResults } from "./lib/report.js";
import { download } from "./parts/download.js";
import { graphql } from "./parts/graphql.js";
import { listing } from "./parts/listing.js";
import { memory } from "./parts/memory.js";
import { responsiveness } from "./parts/responsiveness.js";
import { scale } from "./parts/scale.js";
import { transfer } from "./parts/transfer.js";
import { upload } from "./parts/upload.js";

// The SDK's Node-version notice would repeat in every part's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const PARTS: Part[] = [download, upload, listing, graphql, memory, transfer, responsiveness, scale];
/** Other benchmarks `npm run bench` also runs, each with its own output, when package.json defines them. */
const EXTERNAL = ["bench:vcdiff", "bench:savings", "bench:savings-index"];

function usage(): string {
  return [
    "usage: tsx bench/run.ts all | <part>...",
    ...PARTS.map((p) => `  ${p.name.padEnd(15)} ${p.describe}`),
    `  all             every part, then ${EXTERNAL.join(", ")} when defined in package.json`,
  ].join("\n");
}

async function runPart(part: Part): Promise<PartResult> {
  const started = performance.now();
  process.stderr.write(`\n== ${part.name} (BENCH_SCALE=${SCALE}) ==\n`);
  const resources = new Resources();
  let rows: Row[] = [];
  let error: string | undefined;
  try {
    rows = await part.run(resources);
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  try {
    await resources.releaseAll();
  } catch (e) {
    error ??= e instanceof Error ? e.message : String(e);
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  if (error) process.stderr.write(`[${part.name}] FAILED after ${seconds} s: ${error}\n`);
  else process.stdout.write(`\n${part.name}: ${seconds} s\n${textTable(rows)}\n`);
  return { part: part.name, ok: !error, seconds, rows, error };
}

function runScript(script: string): Promise<PartResult> {
  const started = performance.now();
  process.stderr.write(`\n== npm run ${script} (BENCH_SCALE=${SCALE}) ==\n`);
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", script], { cwd: REPO_ROOT, stdio: "inherit", env: process.env });
    const done = (code: number | null, error?: string) => {
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const ok = code === 0 && !error;
      if (!ok) process.stderr.write(`[${script}] FAILED after ${seconds} s: ${error ?? `exit ${code}`}\n`);
      resolve({ part: script, ok, seconds, rows: [], error: ok ? undefined : (error ?? `exit ${code}`) });
    };
    child.once("error", (e) => done(null, e.message));
    child.once("exit", (code) => done(code));
  });
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${usage()}\n`);
    process.exit(args.length === 0 ? 2 : 0);
  }
  const all = args.includes("all");
  const selected = all ? PARTS : args.map((name) => PARTS.find((p) => p.name === name));
  const unknown = args.filter((name, i) => name !== "all" && !selected[i]);
  if (!all && unknown.length > 0) {
    process.stderr.write(`unknown part: ${unknown.join(", ")}\n${usage()}\n`);
    process.exit(2);
  }

  const started = new Date();
  const results: PartResult[] = [];
  for (const part of selected as Part[]) {
    results.push(await runPart(part));
    await writeResults(started, results);
  }
  if (all) {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).scripts ?? {}) as Record<
      string,
      string
    >;
    for (const script of EXTERNAL) {
      if (!scripts[script]) continue;
      results.push(await runScript(script));
      await writeResults(started, results);
    }
  }

  const rows = results.flatMap((r) => r.rows);
  const path = await writeResults(started, results);
  process.stdout.write(`\n== end-to-end summary (BENCH_SCALE=${SCALE}, ${started.toISOString()}) ==\n`);
  process.stdout.write(`${textTable(rows)}\n`);
  if (process.env.BENCH_MARKDOWN) process.stdout.write(`\n${markdownTable(rows)}\n`);
  for (const r of results) process.stdout.write(`${r.ok ? "ok    " : "FAILED"} ${r.part} (${r.seconds} s)\n`);
  const missed = rows.filter((r) => r.met === false).length;
  process.stdout.write(`${missed} goal(s) missed (reported, not an error); results: ${path}\n`);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
