/**
 * Mutations of real xdelta3 deltas for the decoder fuzz tests (fuzz.test.ts, fuzz-xdelta3.test.ts): the subjects,
 * one seeded mutation, and a decode through Glider's streaming decoder.
 */
import { bufferSource, openVcdiff, VCD_ADLER32 } from "../../src/services/vcdiff/index.js";
import { encodeVarint } from "../../src/services/vcdiff/varint.js";
import { randomChunks, readCase, vcdiffCase } from "./vcdiff-fixtures.js";

export const CASE_NAMES = [
  "text-tiny",
  "text-edit",
  "text-edit-nosec",
  "text-edit-nochecksum",
  "binary-reorder",
  "multiwindow-small",
  "multiwindow-small-nosource",
  "no-source-text",
];
export const LIMITS = { maxWindowSize: 1024 * 1024, maxDictSize: 1024 * 1024 };

export interface Subject {
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

export async function loadSubject(name: string): Promise<Subject> {
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

export type Mutation = { kind: string; bytes: Uint8Array; cutAt?: number };

export function mutate(s: Subject, random: () => number): Mutation {
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

export async function decodeAll(bytes: Uint8Array, source: Uint8Array | null, chunkRandom: (() => number) | null) {
  const delta = chunkRandom ? randomChunks(bytes, chunkRandom, 257) : [bytes];
  const reader = await openVcdiff(delta, LIMITS);
  const parts: Uint8Array[] = [];
  for await (const chunk of reader.decode(source ? bufferSource(source) : null)) parts.push(chunk);
  return Buffer.concat(parts);
}

export function isPrefix(out: Uint8Array, target: Uint8Array): boolean {
  return out.length < target.length && Buffer.from(target.buffer, target.byteOffset, out.length).equals(out);
}
