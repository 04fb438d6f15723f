/**
 * Seeded mutations of real xdelta3 deltas: every decode must end in the right output or a VcdiffError, quickly
 * and without big allocations. FUZZ_ITERATIONS scales the run (default 10,000); FUZZ_SEED varies it.
 */
import { describe, expect, it } from "vitest";
import { VcdiffError } from "../../../src/services/vcdiff/index.js";
import { seededRandom, sha256 } from "../../helpers/vcdiff-fixtures.js";
import { CASE_NAMES, decodeAll, isPrefix, loadSubject, mutate } from "../../helpers/vcdiff-fuzz.js";

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const TIME_LIMIT_MS = 2000;

describe("fuzzed deltas", () => {
  it(`${ITERATIONS} seeded mutations end in the right output or a VcdiffError`, { timeout: 120_000 }, async () => {
    const subjects = await Promise.all(CASE_NAMES.map(loadSubject));
    for (const s of subjects) expect(sha256(await decodeAll(s.delta, s.source, null))).toBe(s.targetSha);

    const random = seededRandom(SEED);
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    const started0 = performance.now();
    let slowest = 0;
    for (let i = 0; i < ITERATIONS && failures.length < 20; i++) {
      const s = subjects[i % subjects.length];
      const m = mutate(s, random);
      const chunkRandom = i % 5 === 0 ? seededRandom(i) : null;
      const started = performance.now();
      let outcome: string;
      try {
        const out = await decodeAll(m.bytes, s.source, chunkRandom);
        if (out.length === s.target.length && (!s.checksummed || sha256(out) === s.targetSha)) outcome = "decoded";
        else if (m.cutAt !== undefined && isPrefix(out, s.target)) outcome = "short output";
        else {
          outcome = "wrong output";
          failures.push(`#${i} ${s.name} ${m.kind}: ${out.length} bytes, want ${s.target.length}`);
        }
      } catch (error) {
        if (error instanceof VcdiffError) outcome = error.code;
        else {
          outcome = "foreign exception";
          failures.push(`#${i} ${s.name} ${m.kind}: ${error instanceof Error ? error.stack : String(error)}`);
        }
      }
      const elapsed = performance.now() - started;
      slowest = Math.max(slowest, elapsed);
      if (elapsed > TIME_LIMIT_MS) failures.push(`#${i} ${s.name} ${m.kind}: took ${elapsed.toFixed(0)} ms`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    console.log(
      `fuzz: ${ITERATIONS} cases in ${((performance.now() - started0) / 1000).toFixed(1)} s, slowest ${slowest.toFixed(1)} ms,`,
      Object.fromEntries(outcomes),
    );
    expect(failures).toEqual([]);
    expect(slowest).toBeLessThan(TIME_LIMIT_MS);
    // Most mutations must actually be rejected, or the fuzzer is not reaching the decoder.
    expect((outcomes.get("decoded") ?? 0) + (outcomes.get("short output") ?? 0)).toBeLessThan(ITERATIONS / 2);
  });
});
