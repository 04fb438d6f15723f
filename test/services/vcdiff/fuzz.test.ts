/**
 * Seeded mutations of real xdelta3 deltas: every decode must end in the right output or a VcdiffError, quickly
 * and without big allocations. FUZZ_ITERATIONS scales the run (default 10,000); FUZZ_SEED varies it.
 */
import { describe, expect, it } from "vitest";
import { bufferSource, openVcdiff, VCD_ADLER32, VcdiffError } from "../../../src/services/vcdiff/index.js";
import { encodeVarint } from "../../../src/services/vcdiff/varint.js";
import { randomChunks, readCase, seededRandom, sha256, vcdiffCase } from "../../helpers/vcdiff-fixtures.js";

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 10_000);
const CASE_NAMES = [
  "text-tiny",
  "text-edit",
  "text-edit-nosec",
  "text-edit-nochecksum",
  "binary-reorder",
  "multiwindow-small",
  "multiwindow-small-nosource",
  "no-source-text",
];
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const TIME_LIMIT_MS = 2000;
const LIMITS = { maxWindowSize: 1024 * 1024, maxDictSize: 1024 * 1024 };

interface Subject {
  name: string;
  delta: Uint8Array;
  source: Uint8Array | null;
  target: Uint8Array;
  targetSha: string;
  /** Every window carries an Adler-32, so any successful decode must be exact. */
  checksummed: boolean;
  /** Offsets of the window headers, where length fields live. */
  windowOffsets: number[];
  /** Delta lengths at which a window ends (a cut there is a clean, shorter decode). */
  windowEnds: Set<number>;
}

async function loadSubject(name: string): Promise<Subject> {
  const c = vcdiffCase(name);
  const { delta: file, source, target } = await readCase(c);
  const delta = new Uint8Array(file); // a plain copy: Buffer#slice would alias it and let mutations accumulate
  const reader = await openVcdiff([delta]);
  const windowOffsets: number[] = [];
  const windowEnds = new Set<number>();
  let checksummed = true;
  for await (const win of reader.windows()) {
    windowOffsets.push(win.offset);
    if (!(win.winIndicator & VCD_ADLER32)) checksummed = false;
  }
  // A window ends where the next begins; the last one ends at the end of the delta.
  for (const offset of windowOffsets.slice(1)) windowEnds.add(offset);
  windowEnds.add(delta.length);
  return {
    name,
    delta,
    source,
    target: target as Uint8Array,
    targetSha: c.sha256.target,
    checksummed,
    windowOffsets,
    windowEnds,
  };
}

type Mutation = { kind: string; bytes: Uint8Array; cutAt?: number };

function mutate(s: Subject, random: () => number): Mutation {
  const d = s.delta;
  const int = (n: number) => Math.floor(random() * n);
  const splice = (at: number, remove: number, insert: ArrayLike<number>) => {
    const out = new Uint8Array(d.length - remove + insert.length);
    out.set(d.subarray(0, at));
    out.set(insert, at);
    out.set(d.subarray(at + remove), at + insert.length);
    return out;
  };
  switch (int(7)) {
    case 0: {
      const bytes = d.slice();
      for (let flips = 1 + int(3); flips > 0; flips--) bytes[int(bytes.length)] ^= 1 << int(8);
      return { kind: "bit flip", bytes };
    }
    case 1: {
      const bytes = d.slice();
      bytes[int(bytes.length)] = [0x00, 0xff, 0x80, 0x7f, int(256)][int(5)];
      return { kind: "byte set", bytes };
    }
    case 2: {
      const cutAt = random() < 0.3 ? [...s.windowEnds][int(s.windowEnds.size)] - int(2) : int(d.length);
      return { kind: "truncation", bytes: d.subarray(0, cutAt), cutAt };
    }
    case 3:
      return {
        kind: "insertion",
        bytes: splice(
          int(d.length + 1),
          0,
          Array.from({ length: 1 + int(16) }, () => int(256)),
        ),
      };
    case 4: {
      const at = int(d.length);
      return { kind: "deletion", bytes: splice(at, Math.min(1 + int(16), d.length - at), []) };
    }
    case 5: {
      // Length-field inflation: replace a byte of a window header with a large varint.
      const at = Math.min(s.windowOffsets[int(s.windowOffsets.length)] + 1 + int(14), d.length - 1);
      return { kind: "varint inflation", bytes: splice(at, 1, encodeVarint(2 ** (16 + int(37)) + int(1000))) };
    }
    default: {
      // Duplicate a slice of the delta somewhere else (plausible-looking structure in the wrong place).
      const from = int(d.length);
      const piece = d.slice(from, from + 1 + int(64));
      return { kind: "splice", bytes: splice(int(d.length + 1), 0, piece) };
    }
  }
}

async function decodeAll(bytes: Uint8Array, source: Uint8Array | null, chunkRandom: (() => number) | null) {
  const delta = chunkRandom ? randomChunks(bytes, chunkRandom, 257) : [bytes];
  const reader = await openVcdiff(delta, LIMITS);
  const parts: Uint8Array[] = [];
  for await (const chunk of reader.decode(source ? bufferSource(source) : null)) parts.push(chunk);
  return Buffer.concat(parts);
}

function isPrefix(out: Uint8Array, target: Uint8Array): boolean {
  return out.length < target.length && Buffer.from(target.buffer, target.byteOffset, out.length).equals(out);
}

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
