import { describe, expect, it } from "vitest";
import { DEFAULT_CODE_TABLE } from "../../../src/services/vcdiff/code-table.js";
import {
  type EncodeOptions,
  encodeVcdiff as encodeAny,
  encodeVcdiffBuffer as encodeBufferAny,
  MAX_WINDOW_SIZE,
} from "../../../src/services/vcdiff/encoder.js";
import { decodeVcdiffBuffer } from "../../../src/services/vcdiff/index.js";
import {
  ADD,
  COPY,
  EncoderInvariantError,
  InstructionList,
  RUN,
  WindowWriter,
} from "../../../src/services/vcdiff/instruction-writer.js";
import { TargetIndex } from "../../../src/services/vcdiff/match-index.js";
import { readVarint } from "../../../src/services/vcdiff/varint.js";
import { archivePair } from "../../helpers/archive-pairs.js";

// ---------------------------------------------------------------------------------------------- helpers

// These tests read the sections' raw bytes, so secondary compression is off unless a test asks for it
// (secondary.test.ts covers the LZMA sections).
const encodeVcdiffBuffer = (source: Uint8Array | null, target: Uint8Array, options: EncodeOptions = {}) =>
  encodeBufferAny(source, target, { secondary: "none", ...options });
const encodeVcdiff = (
  source: Uint8Array | null,
  target: AsyncIterable<Uint8Array> | Uint8Array,
  options: EncodeOptions = {},
) => encodeAny(source, target, { secondary: "none", ...options });

/** mulberry32: deterministic integers in [0, n). */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

type Rand = ReturnType<typeof prng>;

function noise(r: Rand, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r(256);
  return out;
}

const WORDS = "delta window source target copy add run near same here self address cache block".split(" ");

function text(r: Rand, n: number): Uint8Array {
  let s = "";
  while (s.length < n) s += `${WORDS[r(WORDS.length)]}${r(12) === 0 ? "\n" : " "}`;
  return new TextEncoder().encode(s.slice(0, n));
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

/** A target made from `source` by `edits` random inserts, deletes, moves, repeats and byte runs. */
function edited(r: Rand, source: Uint8Array, edits: number): Uint8Array {
  let t = source;
  for (let i = 0; i < edits; i++) {
    const at = r(t.length + 1);
    const len = 1 + r(r(4) === 0 ? 5000 : 200);
    switch (r(6)) {
      case 0: // insert new bytes
        t = concat([t.subarray(0, at), r(2) ? noise(r, len) : text(r, len), t.subarray(at)]);
        break;
      case 1: // delete
        t = concat([t.subarray(0, at), t.subarray(Math.min(t.length, at + len))]);
        break;
      case 2: {
        // move a block elsewhere
        const from = r(t.length + 1);
        const block = t.slice(from, from + len);
        const rest = concat([t.subarray(0, from), t.subarray(from + block.length)]);
        const to = r(rest.length + 1);
        t = concat([rest.subarray(0, to), block, rest.subarray(to)]);
        break;
      }
      case 3: {
        // repeat a block (self-copy material), possibly overlapping: "abcabcabc"
        const from = r(t.length + 1);
        const block = t.slice(from, from + len);
        t = concat([t.subarray(0, at), block, block, block.subarray(0, r(block.length + 1)), t.subarray(at)]);
        break;
      }
      case 4: // run of one byte
        t = concat([t.subarray(0, at), new Uint8Array(len * 4).fill(r(256)), t.subarray(at)]);
        break;
      default: // copy from the source, anywhere
        if (source.length > 0) {
          const from = r(source.length);
          t = concat([t.subarray(0, at), source.subarray(from, from + len), t.subarray(at)]);
        }
    }
  }
  return t;
}

async function* chunked(r: Rand, bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.length; ) {
    const n = 1 + r(r(3) === 0 ? 100 : 70000);
    yield bytes.subarray(o, o + n);
    o += n;
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return concat(parts);
}

interface ParsedWindow {
  indicator: number;
  segLength: number;
  segPosition: number;
  targetLength: number;
  deltaIndicator: number;
  dataLength: number;
  instLength: number;
  addrLength: number;
  adler32: number | null;
  /** Offset of the instruction section in the delta. */
  instOffset: number;
}

/** Independent walk over our delta's header and window headers (no instruction decoding). */
function parse(delta: Uint8Array): { indicator: number; appHeader: Uint8Array | null; windows: ParsedWindow[] } {
  expect([...delta.subarray(0, 4)]).toEqual([0xd6, 0xc3, 0xc4, 0x00]);
  const indicator = delta[4];
  let p = 5;
  const varint = () => {
    const v = readVarint(delta, p);
    if (!v) throw new Error(`truncated varint at ${p}`);
    p = v.next;
    return v.value;
  };
  let appHeader: Uint8Array | null = null;
  if (indicator & 0x04) {
    const n = varint();
    appHeader = delta.slice(p, p + n);
    p += n;
  }
  const windows: ParsedWindow[] = [];
  while (p < delta.length) {
    const w = delta[p++];
    const segLength = w & 0x03 ? varint() : 0;
    const segPosition = w & 0x03 ? varint() : 0;
    const deltaLength = varint();
    const start = p;
    const targetLength = varint();
    const deltaIndicator = delta[p++];
    const dataLength = varint();
    const instLength = varint();
    const addrLength = varint();
    let adler32: number | null = null;
    if (w & 0x04) {
      adler32 = ((delta[p] << 24) | (delta[p + 1] << 16) | (delta[p + 2] << 8) | delta[p + 3]) >>> 0;
      p += 4;
    }
    const instOffset = p + dataLength;
    p += dataLength + instLength + addrLength;
    expect(p - start).toBe(deltaLength);
    windows.push({
      indicator: w,
      segLength,
      segPosition,
      targetLength,
      deltaIndicator,
      dataLength,
      instLength,
      addrLength,
      adler32,
      instOffset,
    });
  }
  expect(p).toBe(delta.length);
  return { indicator, appHeader, windows };
}

/** The (type, mode) of every instruction of a window; a double code gives two entries. */
function instructions(delta: Uint8Array, w: ParsedWindow): { code: number; type: number; mode: number }[] {
  const t = DEFAULT_CODE_TABLE;
  const out: { code: number; type: number; mode: number }[] = [];
  let p = w.instOffset;
  const end = p + w.instLength;
  while (p < end) {
    const code = delta[p++];
    for (const [type, size, mode] of [
      [t.type1[code], t.size1[code], t.mode1[code]],
      [t.type2[code], t.size2[code], t.mode2[code]],
    ]) {
      if (type === 0) continue;
      if (size === 0) p = readVarint(delta, p)?.next ?? end;
      out.push({ code, type, mode });
    }
  }
  expect(p).toBe(end);
  return out;
}

async function roundTrip(source: Uint8Array | null, target: Uint8Array, windowSize?: number): Promise<Uint8Array> {
  const delta = encodeVcdiffBuffer(source, target, { windowSize });
  const decoded = await decodeVcdiffBuffer(delta, source);
  expect(decoded.length).toBe(target.length);
  expect(Buffer.compare(decoded, target)).toBe(0);
  const { windows } = parse(delta);
  const size = windowSize ?? 8 * 1024 * 1024;
  expect(windows.length).toBe(Math.max(1, Math.ceil(target.length / size)));
  for (const w of windows) {
    expect(w.targetLength).toBeLessThanOrEqual(size);
    expect(w.deltaIndicator).toBe(0);
    if (w.indicator & 0x01) {
      expect(source?.length).toBeGreaterThan(0);
      expect(w.segLength).toBeGreaterThan(0);
      expect(w.segPosition + w.segLength).toBeLessThanOrEqual(source?.length ?? 0);
    }
  }
  return delta;
}

// ---------------------------------------------------------------------------------------------- tests

describe("encodeVcdiff round trips (seeded)", () => {
  for (let seed = 1; seed <= 60; seed++) {
    it(`seed ${seed}`, async () => {
      const r = prng(seed);
      const kind = r(4);
      const size = r(4) === 0 ? r(300) : r(120_000);
      const source =
        kind === 0 ? null : kind === 1 ? text(r, size) : kind === 2 ? noise(r, size) : edited(r, text(r, size), 3);
      const target = edited(r, source ?? text(r, r(20_000)), r(25));
      const windowSize = [undefined, 16 * 1024, 1000 + r(5000), 64][r(4)];
      const delta = await roundTrip(source, target, windowSize);
      // The streaming API with arbitrary chunking gives the same bytes.
      expect(await collect(encodeVcdiff(source, chunked(r, target), { windowSize }))).toEqual(delta);
    });
  }
});

describe("encodeVcdiff edge cases", () => {
  it("empty target: one window of length 0 with Adler-32 1", async () => {
    for (const source of [null, new Uint8Array(0), text(prng(1), 5000)]) {
      const delta = await roundTrip(source, new Uint8Array(0));
      expect([...delta]).toEqual([0xd6, 0xc3, 0xc4, 0, 0, 0x04, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
      expect(await collect(encodeVcdiff(source, (async function* () {})()))).toEqual(delta);
    }
  });

  it("empty source is no source", async () => {
    const target = text(prng(2), 30_000);
    const delta = await roundTrip(new Uint8Array(0), target);
    expect(delta).toEqual(encodeVcdiffBuffer(null, target));
    expect(parse(delta).windows[0].indicator & 0x01).toBe(0);
  });

  it("a source at an unaligned offset (e.g. a pooled Buffer slice) encodes the same", async () => {
    const r = prng(15);
    const source = text(r, 50_000);
    const target = edited(r, source, 8);
    const unaligned = new Uint8Array(source.length + 3);
    unaligned.set(source, 3);
    const delta = encodeVcdiffBuffer(unaligned.subarray(3), target);
    expect(delta).toEqual(encodeVcdiffBuffer(source, target));
    expect(Buffer.compare(await decodeVcdiffBuffer(delta, source), target)).toBe(0);
  });

  it("target equal to source is one COPY", async () => {
    const source = noise(prng(3), 200_000);
    const delta = await roundTrip(source, source);
    expect(delta.length).toBeLessThan(40);
    const [w] = parse(delta).windows;
    expect(w).toMatchObject({ indicator: 0x05, segLength: 200_000, segPosition: 0, dataLength: 0 });
  });

  it("target 30× the source and source 30× the target", async () => {
    const r = prng(4);
    const small = text(r, 6000);
    const big = concat(Array.from({ length: 30 }, (_, i) => (i % 7 === 3 ? edited(r, small, 2) : small)));
    expect((await roundTrip(small, big)).length).toBeLessThan(big.length / 20);
    const part = big.subarray(90_000, 96_000);
    expect((await roundTrip(big, part)).length).toBeLessThan(100);
  });

  it("runs of one byte become RUNs", async () => {
    const target = concat([new Uint8Array(1 << 20).fill(7), text(prng(5), 100), new Uint8Array(50_000)]);
    const delta = await roundTrip(null, target);
    expect(delta.length).toBeLessThan(150);
  });

  it("repeats within the target become self-copies, including overlapping ones", async () => {
    const unit = noise(prng(6), 5);
    const target = concat([...Array.from({ length: 2000 }, () => unit), noise(prng(7), 3000)]);
    const delta = await roundTrip(null, target);
    expect(delta.length).toBeLessThan(3100);
  });

  it("many windows, each with its own source segment", async () => {
    const r = prng(8);
    const source = concat([text(r, 100_000), noise(r, 100_000)]);
    const target = edited(r, source, 10);
    const delta = await roundTrip(source, target, 16 * 1024);
    const { windows } = parse(delta);
    expect(windows.length).toBeGreaterThan(10);
    expect(windows.filter((w) => w.indicator & 0x01).length).toBeGreaterThan(10);
    expect(delta.length).toBeLessThan(40_000);
  });

  it("content larger than a window, repeated far away", async () => {
    const r = prng(9);
    const block = noise(r, 40_000);
    const source = concat([block, noise(r, 300_000)]);
    const target = concat([noise(r, 200_000), block, noise(r, 100), block]);
    const delta = await roundTrip(source, target, 16 * 1024);
    expect(delta.length).toBeLessThan(200_100 + 2000);
  });

  it("declares exactly the source range its COPYs use", async () => {
    const r = prng(10);
    const source = noise(r, 100_000);
    const target = concat([source.subarray(30_000, 40_000), noise(r, 50), source.subarray(55_000, 60_000)]);
    const delta = encodeVcdiffBuffer(source, target);
    const [w] = parse(delta).windows;
    expect(w).toMatchObject({ segPosition: 30_000, segLength: 30_000 });
    // Bytes outside the segment are never read...
    const scrambled = noise(r, source.length);
    scrambled.set(source.subarray(30_000, 60_000), 30_000);
    expect(Buffer.compare(await decodeVcdiffBuffer(delta, scrambled), target)).toBe(0);
    // ...and both ends of it are.
    for (const at of [30_000, 59_999]) {
      const flipped = source.slice();
      flipped[at] ^= 0xff;
      await expect(decodeVcdiffBuffer(delta, flipped)).rejects.toThrow(/checksum/);
    }
  });

  it("uses NEAR addresses and ADD+COPY codes for scattered small edits", async () => {
    const r = prng(11);
    const source = noise(r, 64 * 1024);
    const parts: Uint8Array[] = [];
    // Source stretches with 1-4 replaced bytes, leaving 4-6 unchanged bytes between two replacements.
    for (let i = 0; i < 300; i++) {
      let at = r(source.length - 100);
      parts.push(source.subarray(at, at + 30));
      at += 30;
      for (const keep of [4 + r(3), 30]) {
        const replaced = 1 + r(4);
        parts.push(noise(r, replaced), source.subarray(at + replaced, at + replaced + keep));
        at += replaced + keep;
      }
    }
    const target = concat(parts);
    const delta = await roundTrip(source, target);
    const insts = instructions(delta, parse(delta).windows[0]);
    const t = DEFAULT_CODE_TABLE;
    expect(insts.some((i) => i.type === 3 && i.mode >= 2 && i.mode <= 5)).toBe(true);
    expect(insts.some((i) => t.type1[i.code] === 1 && t.type2[i.code] === 3)).toBe(true);
    expect(delta.length).toBeLessThan(target.length / 3);
  });
});

describe("WindowWriter", () => {
  /** Target bytes an instruction list produces (what a decoder would), for a window without a source. */
  function materialize(source: Uint8Array, list: InstructionList, adds: Uint8Array): Uint8Array {
    const out: number[] = [];
    let a = 0;
    for (let i = 0; i < list.count; i++) {
      const [k, n, w] = [list.kind[i], list.size[i], list.where[i]];
      for (let j = 0; j < n; j++) {
        if (k === ADD) out.push(adds[a++]);
        else if (k === RUN) out.push(adds[a]);
        else out.push(w >= 0 ? source[w + j] : out[-1 - w + j]);
      }
      if (k === RUN) a++;
    }
    return Uint8Array.from(out);
  }

  it("picks SELF/HERE/NEAR/SAME and single/double codes as the caches allow", async () => {
    const r = prng(14);
    const source = noise(r, 100_000);
    const list = new InstructionList();
    const adds = noise(r, 1000);
    let pos = 0;
    let a = 0;
    const add = (n: number) => {
      list.push(ADD, n, pos);
      pos += n;
      a += n;
    };
    const copy = (n: number, where: number) => {
      list.push(COPY, n, where);
      pos += n;
    };
    // Eight far-apart source addresses, used twice: the second round finds them only in the SAME cache.
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 8; k++) {
        add(1 + (k % 4)); // ADD 1-4 + COPY 4/5 in one code
        copy(4 + (k % 2), 6000 + k * 11_000);
      }
    }
    copy(4, 52_000); // COPY 4 + ADD 1 in one code
    add(1);
    copy(300, 52_010); // NEAR: 6 past the previous COPY
    copy(40, -1 - 3); // a target copy: HERE or SELF
    list.push(RUN, 50, pos);
    pos += 50;
    add(30);
    copy(20, 90_000);
    const target = materialize(source, list, adds);
    expect(target.length).toBe(pos);
    const writer = new WindowWriter();
    // Any segment covering the COPYs is valid; starting below them keeps every address above 0.
    const window = writer.encode(target, list, { position: 1000, length: 90_020 - 1000 }, true);
    const header = encodeVcdiffBuffer(null, new Uint8Array(0)).subarray(0, 5);
    const delta = concat([header, window]);
    expect(Buffer.compare(await decodeVcdiffBuffer(delta, source), target)).toBe(0);

    const insts = instructions(delta, parse(delta).windows[0]);
    const t = DEFAULT_CODE_TABLE;
    const modes = insts.filter((i) => i.type === 3).map((i) => i.mode);
    expect(modes.slice(0, 8).every((m) => m < 6)).toBe(true); // nothing in the same cache yet
    expect(modes[0]).toBe(0); // SELF
    expect(modes.slice(8, 16).every((m) => m >= 6)).toBe(true); // SAME
    expect(modes.slice(16, 18).every((m) => m >= 2 && m <= 5)).toBe(true); // NEAR
    expect(insts.filter((i) => t.type1[i.code] === 1 && t.type2[i.code] === 3).length).toBeGreaterThanOrEqual(16);
    expect(insts.some((i) => t.type1[i.code] === 3 && t.type2[i.code] === 1)).toBe(true); // COPY 4 + ADD 1
    expect(insts.some((i) => i.type === 2)).toBe(true); // RUN
    expect(a).toBeGreaterThan(0);
  });
});

describe("encoder invariants (issue 14)", () => {
  it("zip version pairs that once got a COPY at address == here (a lazy match re-scanned a position) round-trip", async () => {
    // Before the fix, these pairs' deltas held a COPY reading its own output from `here` on (xdelta3: "address too
    // large"), and claimed the rest of the window covered, so they were far too small.
    for (const seed of [110, 163, 263]) {
      const { source, target } = archivePair(seed);
      const delta = encodeVcdiffBuffer(source, target);
      expect(Buffer.from(await decodeVcdiffBuffer(delta, source)).equals(target), `seed ${seed}`).toBe(true);
    }
  });

  it("the writer refuses a COPY at or beyond here, a source COPY leaving its segment, and gaps", () => {
    const target = new Uint8Array(64).fill(7);
    const writer = new WindowWriter();
    const attempt = (build: (list: InstructionList) => void, segment = { position: 0, length: 0 }) => {
      const list = new InstructionList();
      build(list);
      return () => writer.encode(target, list, segment, false);
    };
    // A target COPY whose source is the byte being written: address == here.
    expect(
      attempt((l) => {
        l.push(ADD, 8, 0);
        l.push(COPY, 56, -1 - 8);
      }),
    ).toThrow(EncoderInvariantError);
    expect(
      attempt((l) => {
        l.push(ADD, 8, 0);
        l.push(COPY, 56, -1 - 9);
      }),
    ).toThrow(/address 9 \(here 8/);
    // A source COPY running past the declared segment [10, 42).
    expect(attempt((l) => l.push(COPY, 64, 10), { position: 10, length: 32 })).toThrow(/source segment 32 bytes/);
    // Instructions that skip window bytes or fall short of the window.
    expect(
      attempt((l) => {
        l.push(ADD, 8, 0);
        l.push(ADD, 8, 16);
      }),
    ).toThrow(/emitted at 8/);
    expect(attempt((l) => l.push(ADD, 8, 0))).toThrow(/produce 8 bytes for a 64-byte window/);
    // The legal neighbours pass: an overlapping self-copy from just below here, a source COPY filling its segment.
    expect(
      attempt((l) => {
        l.push(ADD, 8, 0);
        l.push(COPY, 56, -1 - 7);
      }),
    ).not.toThrow();
    expect(attempt((l) => l.push(COPY, 64, 10), { position: 10, length: 64 })).not.toThrow();
  });
});

describe("TargetIndex", () => {
  it("needs no clearing between windows, and starts over before its offsets overflow", () => {
    const index = new TargetIndex();
    index.reset(5000);
    expect(index.base).toBe(0);
    index.head[7] = 123; // an entry of this window
    index.reset(5000);
    expect(index.head[7] - index.base).toBeLessThan(0); // stale in the next one
    index.base = 0x7fffffff - 6000;
    index.reset(5000);
    expect(index.base).toBe(0);
    expect(index.head.every((v) => v === -1)).toBe(true);
  });
});

describe("encodeVcdiff options", () => {
  const source = text(prng(12), 20_000);
  const target = edited(prng(13), source, 5);

  it("checksum: false emits no VCD_ADLER32", async () => {
    const delta = encodeVcdiffBuffer(source, target, { checksum: false });
    const { windows } = parse(delta);
    expect(windows.every((w) => (w.indicator & 0x04) === 0 && w.adler32 === null)).toBe(true);
    expect(Buffer.compare(await decodeVcdiffBuffer(delta, source), target)).toBe(0);
    const withSum = parse(encodeVcdiffBuffer(source, target)).windows;
    expect(withSum.every((w) => w.indicator & 0x04)).toBe(true);
  });

  it("appHeader is written after Hdr_Indicator 0x04", async () => {
    for (const appHeader of ["out.bin//reference.bin/", new TextEncoder().encode("out.bin//reference.bin/")]) {
      const delta = encodeVcdiffBuffer(source, target, { appHeader });
      const parsed = parse(delta);
      expect(parsed.indicator).toBe(0x04);
      expect(new TextDecoder().decode(parsed.appHeader ?? undefined)).toBe("out.bin//reference.bin/");
      expect(Buffer.compare(await decodeVcdiffBuffer(delta, source), target)).toBe(0);
    }
    expect(parse(encodeVcdiffBuffer(source, target, { appHeader: null })).indicator).toBe(0);
  });

  it("rejects window sizes above 16 MiB (xdelta3 -d refuses them) or below 1", () => {
    for (const windowSize of [MAX_WINDOW_SIZE + 1, 0, -5, 1.5, Number.NaN]) {
      expect(() => encodeVcdiffBuffer(source, target, { windowSize })).toThrow(RangeError);
      // Thrown synchronously, before any chunk is requested.
      expect(() => encodeVcdiff(source, target, { windowSize })).toThrow(RangeError);
    }
    expect(parse(encodeVcdiffBuffer(source, target, { windowSize: MAX_WINDOW_SIZE })).windows).toHaveLength(1);
  });
});
