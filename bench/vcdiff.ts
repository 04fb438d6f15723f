/**
 * VCDIFF benchmark: Glider's encoder/decoder vs the xdelta3 CLI (file → file, same inputs, same run).
 *
 *   npm run bench:vcdiff                 full run: zip-artifact, 64 MiB and 256 MiB generated pairs
 *   BENCH_SCALE=0.05 npm run bench:vcdiff  smoke run with the generated sizes scaled down
 *   BENCH_PARTS=archives BENCH_ARCHIVE_PAIRS=300 BENCH_ARCHIVE_SEED=1 npm run bench:vcdiff
 *                                        only the archive pairs (seeds 1..300), the delta-size goal's measurement
 *
 * Generated pairs: 64 KiB blocks of word salad or noise; about two scattered edits per MiB (replace, insert,
 * delete, duplicate within ±1 MiB; payloads ≤ 4 KiB) and four 1 MiB blocks moved by about half the file.
 * Archive pairs (test/helpers/archive-pairs.ts): BENCH_ARCHIVE_PAIRS (default 200 × BENCH_SCALE, at least 20)
 * seeded zip/tar/tgz version pairs of 50–500 members and up to ~2 MiB of content, seeds BENCH_ARCHIVE_SEED (default 1)
 * onwards; each delta must be reproduced by xdelta3 -d and by Glider's decoder. Sizes: per-pair median, p90 and worst
 * of Glider / xdelta3 -e -9, plus Glider with secondary "none" (matching alone) against xdelta3 -e -9 -S none;
 * throughput: total target bytes / total encode time (xdelta3 timed as a process, with -B sized to the source so it
 * does not page in its default 64 MiB buffer). BENCH_PARTS (comma list of archives, zip, generated; default all).
 * Everything is written to a temp folder and removed afterwards.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeVcdiffBuffer,
  encodeVcdiff,
  encodeVcdiffBuffer,
  fileSource,
  openVcdiff,
} from "../src/services/vcdiff/index.js";
import { archivePair } from "../test/helpers/archive-pairs.js";
import { VCDIFF_FIXTURES as FIXTURES } from "../test/helpers/shared.js";
import { rng } from "./lib/data.js";

const MIB = 1024 * 1024;
const SCALE = Number(process.env.BENCH_SCALE ?? "1");

interface Row {
  name: string;
  size: number;
  encGlider: number;
  encXdelta: number;
  deltaGlider: number;
  deltaXdelta: number;
  /** xdelta3 -e -9 -S none: its matching without secondary compression. */
  deltaXdeltaPlain: number;
  /** Decoding our delta. */
  decGlider: number;
  decXdelta: number;
  /** Decoding xdelta3's delta (LZMA secondary compression). */
  decGliderX: number;
  decXdeltaX: number;
}

// ---------------------------------------------------------------------------------------------- input generation

const WORDS = (
  "the of and to in is that for it as with was on be by at this from or an are not have which but they all were " +
  "we when there can more if no out so what up about into than them some could other time only its two new may " +
  "first then these any like over such our man also even most made after many before must through back years " +
  "where much your way well down should because each just those how too good very make world still own see men " +
  "work long here get both between life being under never day same another know while last might us great old " +
  "year off come since against go came right used take three states himself few house use during without again " +
  "place around however home small found thought went say part once general high upon school every does got " +
  "united left number course war until always away something fact though water less public put think almost hand " +
  "enough far took head yet government system better set told nothing night end why called find going look asked " +
  "later knew point next program city business give group toward young days let room president side social given " +
  "present several order national possible rather second face per among form important often things looked early"
).split(" ");

const encodeWords = (upper: boolean) =>
  WORDS.map((w, i) => new TextEncoder().encode((upper ? w.toUpperCase() : w) + (i % 16 ? " " : "\n")));
const LOWER = encodeWords(false);
const UPPER = encodeWords(true);

function fill(out: Uint8Array, start: number, end: number, next: () => number, kind: "noise" | "text" | "TEXT") {
  if (kind === "noise") {
    for (let i = start; i < end; i++) out[i] = next() & 0xff;
    return;
  }
  const words = kind === "TEXT" ? UPPER : LOWER;
  let p = start;
  while (p < end) {
    const w = words[next() % words.length];
    for (let i = 0; i < w.length && p < end; i++) out[p++] = w[i];
  }
}

function makeSource(size: number, seed: number): Uint8Array {
  const next = rng(seed);
  const out = new Uint8Array(size);
  for (let p = 0; p < size; p += 64 * 1024)
    fill(out, p, Math.min(size, p + 64 * 1024), next, next() & 1 ? "text" : "noise");
  return out;
}

function makeTarget(src: Uint8Array, seed: number): Uint8Array {
  const next = rng(seed);
  const below = (n: number) => next() % Math.max(1, n);
  const parts: Uint8Array[] = [];
  const edits = Math.max(4, Math.round((2 * src.length) / MIB));
  const stripe = Math.floor(src.length / edits);
  let pos = 0;
  for (let i = 0; i < edits; i++) {
    const p = i * stripe + below(stripe - 4097);
    if (p < pos) continue;
    parts.push(src.subarray(pos, p));
    pos = p;
    const len = 1 + below(4096);
    const payload = new Uint8Array(len);
    fill(payload, 0, len, next, next() & 1 ? "TEXT" : "noise");
    switch (below(4)) {
      case 0: // replace
        parts.push(payload);
        pos = Math.min(src.length, p + len);
        break;
      case 1: // insert
        parts.push(payload);
        break;
      case 2: // delete
        pos = Math.min(src.length, p + len);
        break;
      default: {
        const q = Math.min(Math.max(0, p + below(2 * MIB) - MIB), src.length - len);
        parts.push(src.subarray(q, q + len));
      }
    }
  }
  parts.push(src.subarray(pos));
  let target = concat(parts);
  // Move four 1 MiB blocks by about half the file (xdelta3's 64 MiB source window misses these when large).
  const block = Math.min(MIB, Math.floor(target.length / 16));
  for (let k = 0; k < 4; k++) {
    const from = Math.floor(((k + 0.5) * target.length) / 8) + below(block);
    const to = (from + Math.floor(target.length / 2)) % (target.length - block);
    const moved = target.slice(from, from + block);
    const rest = concat([target.subarray(0, from), target.subarray(from + block)]);
    target = concat([rest.subarray(0, to), moved, rest.subarray(to)]);
  }
  return target;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- measurement

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function xdelta3(args: string[]): void {
  const r = spawnSync("xdelta3", args, { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`xdelta3 ${args.join(" ")} failed: ${r.stderr}`);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: MIB })) hash.update(chunk);
  return hash.digest("hex");
}

async function gliderEncode(source: string, target: string, delta: string): Promise<void> {
  const src = await readFile(source);
  const out = await open(delta, "w");
  try {
    for await (const chunk of encodeVcdiff(src, createReadStream(target, { highWaterMark: MIB })))
      await out.write(chunk);
  } finally {
    await out.close();
  }
}

async function gliderDecode(source: string, delta: string, output: string): Promise<void> {
  const src = await fileSource(source);
  const out = await open(output, "w");
  try {
    const reader = await openVcdiff(createReadStream(delta, { highWaterMark: MIB }));
    for await (const chunk of reader.decode(src)) await out.write(chunk);
  } finally {
    await out.close();
    await src.close();
  }
}

/** Best time of each of two contenders over `runs` interleaved rounds (fair under fluctuating load). */
async function bestOf(runs: number, a: () => Promise<number> | number, b: () => Promise<number> | number) {
  let ta = Number.POSITIVE_INFINITY;
  let tb = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    ta = Math.min(ta, await a());
    tb = Math.min(tb, await b());
  }
  return [ta, tb] as const;
}

async function benchCase(name: string, dir: string): Promise<Row> {
  console.error(`… ${name}`);
  const source = join(dir, "source.bin");
  const target = join(dir, "target.bin");
  const size = statSync(target).size;
  const want = await sha256File(target);
  const runs = Math.max(3, Math.min(5, Math.ceil((32 * MIB) / size)));
  const ours = join(dir, "glider.vcdiff");
  const theirs = join(dir, "xdelta3.vcdiff");
  const out = join(dir, "out.bin");
  const check = async (what: string) => {
    if ((await sha256File(out)) !== want) throw new Error(`${name}: ${what} did not reproduce the target`);
  };
  const mbps = (seconds: number) => size / MIB / seconds;

  const [encGlider, encXdelta] = await bestOf(
    runs,
    () => timeAsync(() => gliderEncode(source, target, ours)),
    () => time(() => xdelta3(["-e", "-9", "-f", "-s", source, target, theirs])),
  );
  xdelta3(["-d", "-f", "-s", source, ours, out]);
  await check("xdelta3 -d of our delta");
  const [decGlider, decXdelta] = await bestOf(
    runs,
    () => timeAsync(() => gliderDecode(source, ours, out)),
    () => time(() => xdelta3(["-d", "-f", "-s", source, ours, out])),
  );
  await gliderDecode(source, ours, out);
  await check("our decoder on our delta");
  const [decGliderX, decXdeltaX] = await bestOf(
    runs,
    () => timeAsync(() => gliderDecode(source, theirs, out)),
    () => time(() => xdelta3(["-d", "-f", "-s", source, theirs, out])),
  );
  await gliderDecode(source, theirs, out);
  await check("our decoder on xdelta3's delta");
  const plain = join(dir, "xdelta3-plain.vcdiff");
  xdelta3(["-e", "-9", "-S", "none", "-f", "-s", source, target, plain]);
  await rm(out, { force: true });
  return {
    name,
    size,
    encGlider: mbps(encGlider),
    encXdelta: mbps(encXdelta),
    deltaGlider: statSync(ours).size,
    deltaXdelta: statSync(theirs).size,
    deltaXdeltaPlain: statSync(plain).size,
    decGlider: mbps(decGlider),
    decXdelta: mbps(decXdelta),
    decGliderX: mbps(decGliderX),
    decXdeltaX: mbps(decXdeltaX),
  };
}

function table(rows: Row[]): string {
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => x.toFixed(2);
  const lines = [
    "| case | target | encode MB/s Glider / xdelta3 -9 | delta bytes Glider / xdelta3 -9 | " +
      "xdelta3 -9 -S none | decode our delta MB/s Glider / xdelta3 | decode xdelta3's delta MB/s Glider / xdelta3 |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  const pair = (a: string, b: string, ratio: number) => `${a} / ${b} (**${f2(ratio)}×**)`;
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${f1(r.size / MIB)} MiB | ${pair(f1(r.encGlider), f1(r.encXdelta), r.encGlider / r.encXdelta)} | ` +
        `${pair(String(r.deltaGlider), String(r.deltaXdelta), r.deltaGlider / r.deltaXdelta)} | ` +
        `${r.deltaXdeltaPlain} (${f2(r.deltaGlider / r.deltaXdeltaPlain)}×) | ` +
        `${pair(f1(r.decGlider), f1(r.decXdelta), r.decGlider / r.decXdelta)} | ` +
        `${pair(f1(r.decGliderX), f1(r.decXdeltaX), r.decGliderX / r.decXdeltaX)} |`,
    );
  }
  return lines.join("\n");
}

/** Writes a generated pair to dir; flushes it so that write-back does not disturb the timings. */
async function generate(dir: string, mib: number, seed: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const src = makeSource(Math.round(mib * MIB), seed);
  await writeFile(join(dir, "source.bin"), src);
  await writeFile(join(dir, "target.bin"), makeTarget(src, seed + 1));
  execFileSync("sync");
}

interface ArchiveSummary {
  pairs: number;
  firstSeed: number;
  targetBytes: number;
  encGlider: number;
  encXdelta: number;
  median: number;
  p90: number;
  worst: number;
  worstSeed: number;
  total: number;
  refusedByXdelta3: number;
  /** Glider with secondary "none" against xdelta3 -e -9 -S none: the matching alone, without LZMA on either side. */
  plainMedian: number;
  plainWorst: number;
}

async function benchArchives(dir: string, count: number, firstSeed: number): Promise<ArchiveSummary> {
  console.error(`… ${count} archive pairs`);
  await mkdir(dir, { recursive: true });
  const source = join(dir, "source");
  const target = join(dir, "target");
  const ours = join(dir, "ours.vcdiff");
  const ratios: [number, number][] = [];
  const plainRatios: number[] = [];
  let targetBytes = 0;
  let encGlider = 0;
  let encXdelta = 0;
  let gliderBytes = 0;
  let xdeltaBytes = 0;
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const seed = firstSeed + i;
    const pair = archivePair(seed);
    await writeFile(source, pair.source);
    await writeFile(target, pair.target);
    let buffer = 1 << 20;
    while (buffer < pair.source.length) buffer *= 2;
    // Best of two, interleaved.
    let delta: Uint8Array = new Uint8Array(0);
    const [g, x] = await bestOf(
      2,
      () =>
        time(() => {
          delta = encodeVcdiffBuffer(pair.source, pair.target);
        }),
      () => time(() => xdelta3(["-D", "-e", "-9", "-B", String(buffer), "-f", "-s", source, target, `${ours}.x`])),
    );
    encGlider += g;
    encXdelta += x;
    await writeFile(ours, delta);
    const check = spawnSync("xdelta3", ["-D", "-d", "-c", "-B", String(buffer), "-s", source, ours], {
      maxBuffer: 1 << 30,
    });
    if (check.status !== 0 || !Buffer.from(check.stdout).equals(pair.target)) refused++;
    if (!Buffer.from(await decodeVcdiffBuffer(delta, pair.source)).equals(pair.target)) {
      throw new Error(`archive pair ${seed}: Glider's decoder did not reproduce the target`);
    }
    const theirs = statSync(`${ours}.x`).size;
    xdelta3(["-D", "-e", "-9", "-S", "none", "-B", String(buffer), "-f", "-s", source, target, `${ours}.p`]);
    const plain = encodeVcdiffBuffer(pair.source, pair.target, { secondary: "none" });
    plainRatios.push(plain.length / statSync(`${ours}.p`).size);
    ratios.push([delta.length / theirs, seed]);
    gliderBytes += delta.length;
    xdeltaBytes += theirs;
    targetBytes += pair.target.length;
  }
  ratios.sort((a, b) => a[0] - b[0]);
  plainRatios.sort((a, b) => a - b);
  const at = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))][0];
  return {
    pairs: count,
    firstSeed,
    targetBytes,
    encGlider,
    encXdelta,
    median: at(0.5),
    p90: at(0.9),
    worst: ratios[ratios.length - 1][0],
    worstSeed: ratios[ratios.length - 1][1],
    total: gliderBytes / xdeltaBytes,
    refusedByXdelta3: refused,
    plainMedian: plainRatios[Math.floor(plainRatios.length / 2)],
    plainWorst: plainRatios[plainRatios.length - 1],
  };
}

function archiveTable(a: ArchiveSummary): string {
  const f2 = (x: number) => x.toFixed(2);
  const mbps = (t: number) => (a.targetBytes / MIB / t).toFixed(1);
  return [
    "| archive pairs (seeds) | targets | encode MB/s Glider / xdelta3 -e -9 | delta size Glider / xdelta3 -e -9: median · p90 · worst (seed) · total | both -S none: median · worst | refused by xdelta3 -d |",
    "|---:|---:|---:|---:|---:|---:|",
    `| ${a.pairs} (${a.firstSeed}–${a.firstSeed + a.pairs - 1}) | ${(a.targetBytes / MIB).toFixed(1)} MiB | ${mbps(a.encGlider)} / ${mbps(a.encXdelta)} (**${f2(a.encXdelta / a.encGlider)}×**) | ` +
      `**${f2(a.median)}×** · ${f2(a.p90)}× · **${f2(a.worst)}×** (${a.worstSeed}) · ${f2(a.total)}× | ${f2(a.plainMedian)}× · ${f2(a.plainWorst)}× | ${a.refusedByXdelta3} |`,
  ].join("\n");
}

const GENERATED = [
  ["generated 64 MiB", 64, 64],
  ["generated 256 MiB", 256, 256],
] as const;

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "glider-bench-vcdiff-"));
  const rows: Row[] = [];
  let archives: ArchiveSummary | undefined;
  try {
    const parts = new Set((process.env.BENCH_PARTS ?? "archives,zip,generated").split(","));
    if (parts.has("archives")) {
      const count = Number(process.env.BENCH_ARCHIVE_PAIRS ?? Math.max(20, Math.round(200 * SCALE)));
      archives = await benchArchives(join(work, "archives"), count, Number(process.env.BENCH_ARCHIVE_SEED ?? 1));
    }
    if (parts.has("zip")) {
      const zipDir = join(work, "zip-artifact");
      execFileSync("bash", [join(FIXTURES, "generate.sh"), "--inputs", "zip-artifact", zipDir], { stdio: "ignore" });
      rows.push(await benchCase("zip-artifact", zipDir));
    }
    for (const [label, mib, seed] of parts.has("generated") ? GENERATED : []) {
      const dir = join(work, `gen-${mib}`);
      await generate(dir, mib * SCALE, seed);
      rows.push(await benchCase(SCALE === 1 ? label : `${label} × ${SCALE}`, dir));
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const version = spawnSync("xdelta3", ["-V"], { encoding: "utf8" }).stderr.split("\n")[0];
  console.log(
    `${new Date().toISOString().slice(0, 10)} · node ${process.version} · ${cpus().length} cores (${cpus()[0]?.model}) · ${version}`,
  );
  console.log("Ratios are Glider / xdelta3: above 1 is faster for MB/s, below 1 is smaller for delta bytes.\n");
  if (rows.length > 0) console.log(table(rows));
  if (archives) {
    console.log("\nArchive version pairs (goals: median ≤ 1.05×, worst ≤ 1.5× the size, ≥ 1.5× the encode speed):\n");
    console.log(archiveTable(archives));
  }
}

if (!existsSync(join(FIXTURES, "generate.sh"))) throw new Error(`VCDIFF fixtures not found at ${FIXTURES}`);
// `tsx bench/vcdiff.ts generate DIR MIB`: only write a generated pair (e.g. to profile the encoder on it).
if (process.argv[2] === "generate") await generate(process.argv[3], Number(process.argv[4]), Number(process.argv[4]));
else await main();
