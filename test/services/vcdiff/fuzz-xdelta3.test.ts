/**
 * The decoder is as strict as xdelta3 3.0.11: for every seeded mutation of a real xdelta3 delta (the mutations of
 * fuzz.test.ts), Glider and `xdelta3 -d` agree on accept or refuse, and on the output when both accept.
 * FUZZ_ITERATIONS sets the count (default 10,000), FUZZ_SEED the seed (fresh and printed when unset).
 * xdelta3 runs from one shell per batch of deltas (a spawn per delta from Node would dominate the run).
 * xdelta3 missing is a failure, not a skip.
 * FUZZ_CASES=2072,2496 replays just those case numbers of the seed (case i is the i-th mutation drawn from it, so the
 * earlier ones are still drawn, not decoded).
 */
import { randomInt } from "node:crypto";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VcdiffError } from "../../../src/services/vcdiff/index.js";
import { hasXdelta3 } from "../../helpers/tools.js";
import { seededRandom } from "../../helpers/vcdiff-fixtures.js";
import { CASE_NAMES, decodeAll, loadSubject, mutate, type Subject } from "../../helpers/vcdiff-fuzz.js";
import { type BatchItem, JobPool, type SourceFile, xdelta3DecodeBatch } from "../../helpers/xdelta3.js";

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 10_000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(1, 2 ** 31);
const BATCH = 250;
/** A Glider decode slower than this counts as a hang (the mutated deltas are at most a few hundred KB). */
const SLOW_MS = 2000;
/** Long runs: write a progress line here every batch (vitest holds console output until the test ends). */
const PROGRESS_FILE = process.env.FUZZ_PROGRESS_FILE;
const CASES = process.env.FUZZ_CASES ? new Set(process.env.FUZZ_CASES.split(",").map(Number)) : null;
const LAST = CASES ? Math.max(...CASES) + 1 : ITERATIONS;

type Ours = { ok: true; out: Buffer } | { ok: false; error: string };

describe("fuzzed deltas: Glider and xdelta3 -d agree", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-fuzz-x-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`${ITERATIONS} mutations: same accept/refuse and same output`, {
    timeout: Math.max(600_000, ITERATIONS * 200),
  }, async () => {
    console.log(
      `fuzz-xdelta3: FUZZ_SEED=${SEED} ${CASES ? `FUZZ_CASES=${[...CASES].join(",")}` : `FUZZ_ITERATIONS=${ITERATIONS}`}`,
    );
    expect(hasXdelta3, "xdelta3 must be installed (apt-get install xdelta3)").toBe(true);
    const subjects = await Promise.all(CASE_NAMES.map(loadSubject));
    const sources = new Map<Subject, SourceFile | null>();
    for (const [i, s] of subjects.entries()) {
      if (!s.source) sources.set(s, null);
      else {
        const path = join(dir, `source-${i}`);
        await writeFile(path, s.source);
        sources.set(s, { path, size: s.source.length });
      }
    }
    const random = seededRandom(SEED);
    const disagreements: string[] = [];
    const outcomes = new Map<string, number>();
    let hangs = 0;
    let slowest = 0;
    let reportedLines = 0;
    const slow: string[] = [];
    let done = 0;
    // Latency-bound (process start-up), not CPU-bound: a few batches in flight.
    const pool = new JobPool(4);
    const started = performance.now();
    for (let first = 0; first < LAST && disagreements.length < 20; first += BATCH) {
      const items: BatchItem[] = [];
      const ours: Ours[] = [];
      const labels: string[] = [];
      for (let i = first; i < Math.min(LAST, first + BATCH); i++) {
        const s = subjects[i % subjects.length];
        const m = mutate(s, random);
        if (CASES && !CASES.has(i)) continue;
        const decodeStarted = performance.now();
        try {
          ours.push({ ok: true, out: await decodeAll(m.bytes, s.source, null) });
        } catch (error) {
          if (!(error instanceof VcdiffError)) throw error;
          ours.push({ ok: false, error: error.message });
        }
        const elapsed = performance.now() - decodeStarted;
        slowest = Math.max(slowest, elapsed);
        if (elapsed > SLOW_MS) slow.push(`#${i} ${s.name} ${m.kind}: Glider took ${elapsed.toFixed(0)} ms`);
        const delta = join(dir, `delta-${i}`);
        await writeFile(delta, m.bytes);
        items.push({ delta, source: sources.get(s) ?? null });
        labels.push(`#${i} ${s.name} ${m.kind}`);
      }
      if (items.length === 0) continue;
      await pool.add(async () => {
        const theirs = await xdelta3DecodeBatch(items);
        for (const [k, t] of theirs.entries()) {
          const o = ours[k];
          if (t.hung) hangs++;
          const key = `${o.ok ? "accept" : "refuse"}/${t.ok ? "accept" : "refuse"}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          if (o.ok && !t.ok) disagreements.push(`${labels[k]}: Glider accepts, xdelta3 refuses (${t.error})`);
          else if (!o.ok && t.ok) disagreements.push(`${labels[k]}: Glider refuses (${o.error}), xdelta3 accepts`);
          else if (o.ok && t.ok && !o.out.equals(t.stdout)) {
            disagreements.push(
              `${labels[k]}: both accept, outputs differ (${o.out.length} vs ${t.stdout.length} bytes)`,
            );
          }
        }
        done += items.length;
        if (PROGRESS_FILE && disagreements.length + slow.length > reportedLines) {
          const fresh = [...disagreements, ...slow].slice(reportedLines);
          reportedLines += fresh.length;
          await appendFile(PROGRESS_FILE, fresh.map((line) => `  ${line}\n`).join(""));
        }
        if (PROGRESS_FILE) {
          const line = `${new Date().toISOString()} ${done} mutations, ${disagreements.length} disagreements, ${hangs} xdelta3 hangs, ${slow.length} Glider hangs (slowest ${slowest.toFixed(0)} ms) ${JSON.stringify(Object.fromEntries(outcomes))}\n`;
          await appendFile(PROGRESS_FILE, line);
        }
      });
    }
    await pool.drain();
    console.log(
      `fuzz-xdelta3: ${done} mutations in ${((performance.now() - started) / 1000).toFixed(1)} s (Glider/xdelta3)`,
      Object.fromEntries(outcomes),
      `xdelta3 hangs ${hangs}; Glider slowest decode ${slowest.toFixed(0)} ms`,
      disagreements.slice(0, 5),
    );
    expect(disagreements).toEqual([]);
    expect(slow).toEqual([]);
  });
});
