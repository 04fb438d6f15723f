/**
 * Differential stress test: realistic zip/tar version pairs (test/helpers/archive-pairs.ts), each encoded by Glider;
 * the real `xdelta3 -d` must reproduce the target byte for byte (and so must Glider's decoder, the upload's proof).
 * The delta size against `xdelta3 -e -9` is recorded (printed; the goals live in bench:vcdiff, not here).
 * A fresh seed each run, printed: STRESS_SEED=n repeats a run, STRESS_PAIRS=n sets the count (default 500),
 * STRESS_COMPARE_EVERY=n runs `xdelta3 -e -9` on every n-th pair only (default 1, every pair).
 * xdelta3 missing is a failure, not a skip.
 */
import { randomInt } from "node:crypto";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeVcdiffBuffer } from "../../../src/services/vcdiff/decoder.js";
import { encodeVcdiffBuffer } from "../../../src/services/vcdiff/encoder.js";
import { type ArchivePair, archivePair } from "../../helpers/archive-pairs.js";
import { hasXdelta3 } from "../../helpers/tools.js";
import { JobPool, xdelta3Decode, xdelta3Encode } from "../../helpers/xdelta3.js";

const SEED = process.env.STRESS_SEED ? Number(process.env.STRESS_SEED) : randomInt(1, 2 ** 31);
const PAIRS = Number(process.env.STRESS_PAIRS ?? 500);
const COMPARE_EVERY = Number(process.env.STRESS_COMPARE_EVERY ?? 1);
/** CI-sized archives (32 KiB – 512 KiB of content); big runs may raise it. */
const MAX_CONTENT = Number(process.env.STRESS_MAX_CONTENT ?? 512 * 1024);
/** Long runs: a progress line (and every failure) is appended here (vitest holds console output until the end). */
const PROGRESS_FILE = process.env.STRESS_PROGRESS_FILE;

function describePair(p: ArchivePair): string {
  return `pair seed ${p.seed} (${p.format}, ${p.members} members, ${p.source.length} -> ${p.target.length} bytes; ${p.edits.join("; ")})`;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

describe("differential stress: Glider encodes, xdelta3 -d decodes", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-stress-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`${PAIRS} archive pairs from a fresh seed decode byte for byte with xdelta3`, {
    timeout: Math.max(900_000, PAIRS * 2000),
  }, async () => {
    console.log(`stress: STRESS_SEED=${SEED} STRESS_PAIRS=${PAIRS}`);
    expect(hasXdelta3, "xdelta3 must be installed (apt-get install xdelta3)").toBe(true);
    const failures: string[] = [];
    const ratios: number[] = [];
    let gliderBytes = 0;
    let xdeltaBytes = 0;
    let targetBytes = 0;
    const pool = new JobPool(2);
    let done = 0;
    let reported = 0;
    const started = performance.now();
    for (let i = 0; i < PAIRS && failures.length < 10; i++) {
      const seed = (SEED + i) >>> 0;
      const contentBytes = Math.floor(32 * 1024 * (MAX_CONTENT / (32 * 1024)) ** ((seed % 1000) / 1000));
      const pair = archivePair(seed, { contentBytes });
      let delta: Uint8Array;
      try {
        delta = encodeVcdiffBuffer(pair.source, pair.target);
      } catch (error) {
        failures.push(`${describePair(pair)}: encode threw ${error instanceof Error ? error.message : error}`);
        continue;
      }
      try {
        const ours = await decodeVcdiffBuffer(delta, pair.source);
        if (!Buffer.from(ours).equals(pair.target)) failures.push(`${describePair(pair)}: Glider decoded other bytes`);
      } catch (error) {
        failures.push(
          `${describePair(pair)}: Glider's decoder refused: ${error instanceof Error ? error.message : error}`,
        );
      }
      const base = join(dir, String(i));
      await Promise.all([
        writeFile(`${base}.src`, pair.source),
        writeFile(`${base}.tgt`, pair.target),
        writeFile(`${base}.vcdiff`, delta),
      ]);
      targetBytes += pair.target.length;
      await pool.add(async () => {
        const source = { path: `${base}.src`, size: pair.source.length };
        const decoded = await xdelta3Decode(`${base}.vcdiff`, source);
        if (!decoded.ok) failures.push(`${describePair(pair)}: xdelta3 -d refused: ${decoded.error}`);
        else if (!decoded.stdout.equals(pair.target))
          failures.push(`${describePair(pair)}: xdelta3 -d gave other bytes`);
        if (i % COMPARE_EVERY === 0) {
          const reference = await xdelta3Encode(`${base}.tgt`, source);
          if (!reference.ok) throw new Error(`xdelta3 -e -9 failed on ${describePair(pair)}: ${reference.error}`);
          ratios.push(delta.length / reference.stdout.length);
          gliderBytes += delta.length;
          xdeltaBytes += reference.stdout.length;
        }
        await Promise.all(["src", "tgt", "vcdiff"].map((ext) => rm(`${base}.${ext}`, { force: true })));
        done++;
        if (PROGRESS_FILE && (done % 100 === 0 || failures.length > reported)) {
          const fresh = failures.slice(reported).map((f) => `  FAILURE ${f}\n`);
          reported = failures.length;
          await appendFile(
            PROGRESS_FILE,
            `${new Date().toISOString()} ${done} pairs, ${failures.length} failures, ratio median ${quantile(
              [...ratios].sort((a, b) => a - b),
              0.5,
            ).toFixed(3)}\n${fresh.join("")}`,
          );
        }
      });
    }
    await pool.drain();
    ratios.sort((a, b) => a - b);
    console.log(
      `stress: ${PAIRS} pairs (${(targetBytes / 1e6).toFixed(1)} MB of targets) in ${((performance.now() - started) / 1000).toFixed(1)} s;` +
        ` delta size vs xdelta3 -e -9 over ${ratios.length} pairs: total ${(gliderBytes / xdeltaBytes).toFixed(3)}x,` +
        ` median ${quantile(ratios, 0.5).toFixed(3)}x, p90 ${quantile(ratios, 0.9).toFixed(3)}x,` +
        ` worst ${quantile(ratios, 1).toFixed(3)}x; failures ${failures.length}`,
    );
    expect(failures).toEqual([]);
  });
});
