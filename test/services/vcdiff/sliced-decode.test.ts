import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import {
  bufferSource,
  decodeVcdiffBuffer,
  fileSource,
  openVcdiff,
  type SourceReader,
  VCD_SOURCE,
  VcdiffError,
} from "../../../src/services/vcdiff/index.js";
import { encodeVarint } from "../../../src/services/vcdiff/varint.js";
import { caseFiles, readCase, seededRandom, sha256, VCDIFF_CASES } from "../../helpers/vcdiff-fixtures.js";
import { CASE_NAMES, LIMITS, loadSubject, mutate } from "../../helpers/vcdiff-fuzz.js";

// Hand-built deltas (default code table: 0 RUN, 1 ADD, 19+16m COPY mode m, each with a varint size).
const run = (size: number) => [0, ...encodeVarint(size)];
const add = (size: number) => [1, ...encodeVarint(size)];
const copy = (size: number, mode = 0) => [19 + 16 * mode, ...encodeVarint(size)];
const bytesOf = (s: string) => [...new TextEncoder().encode(s)];

interface TestWindow {
  segment?: [length: number, position: number];
  targetLength: number;
  data?: number[];
  inst: number[];
  addr?: number[];
}

function buildDelta(windows: TestWindow[]): Uint8Array {
  const out: number[] = [0xd6, 0xc3, 0xc4, 0x00, 0x00];
  for (const w of windows) {
    const data = w.data ?? [];
    const addr = w.addr ?? [];
    out.push(w.segment ? VCD_SOURCE : 0);
    if (w.segment) out.push(...encodeVarint(w.segment[0]), ...encodeVarint(w.segment[1]));
    const body = [
      ...encodeVarint(w.targetLength),
      0,
      ...encodeVarint(data.length),
      ...encodeVarint(w.inst.length),
      ...encodeVarint(addr.length),
      ...data,
      ...w.inst,
      ...addr,
    ];
    out.push(...encodeVarint(body.length), ...body);
  }
  return Uint8Array.from(out);
}

type Outcome = { bytes: Uint8Array; code?: undefined } | { code: string; bytes: Uint8Array };

/** decode() with the per-window Adler-32 off (as decodeSlices requires): the reference outcome. */
async function wholeWindows(
  delta: Iterable<Uint8Array>,
  source: SourceReader | null,
  limits: typeof LIMITS | object = {},
): Promise<Outcome> {
  const parts: Uint8Array[] = [];
  try {
    const reader = await openVcdiff(delta, { ...limits, verifyChecksum: false });
    for await (const chunk of reader.decode(source)) parts.push(Uint8Array.from(chunk));
    return { bytes: Buffer.concat(parts) };
  } catch (error) {
    if (!(error instanceof VcdiffError)) throw error;
    return { code: error.code, bytes: Buffer.concat(parts) };
  }
}

async function sliced(
  delta: Iterable<Uint8Array>,
  source: SourceReader | null,
  sliceSize: number,
  limits: typeof LIMITS | object = {},
): Promise<Outcome> {
  const parts: Uint8Array[] = [];
  try {
    const reader = await openVcdiff(delta, { ...limits, verifyChecksum: false, maxTargetHistory: 0 });
    for await (const slice of reader.decodeSlices(source, sliceSize)) {
      expect(slice.bytes.length).toBeGreaterThan(0);
      expect(slice.bytes.length).toBeLessThanOrEqual(sliceSize);
      parts.push(Uint8Array.from(slice.bytes));
    }
    return { bytes: Buffer.concat(parts) };
  } catch (error) {
    if (!(error instanceof VcdiffError)) throw error;
    return { code: error.code, bytes: Buffer.concat(parts) };
  }
}

describe("decodeSlices over the fixture deltas", () => {
  const valid = VCDIFF_CASES.filter((c) => c.kind === "valid");
  const corrupt = VCDIFF_CASES.filter((c) => c.kind === "corrupt");

  it.each(valid.map((c) => [c.name, c] as const))("slices of %s equal the whole windows", async (_name, c) => {
    const files = await caseFiles(c);
    const delta = await readFile(files.delta);
    const file = files.source ? await fileSource(files.source) : null;
    try {
      const whole = await wholeWindows([delta], file);
      if (whole.code === undefined) expect(sha256(whole.bytes)).toBe(c.sha256.target);
      const sizes = c.target_size > 4_000_000 ? [1024 * 1024, 65_537] : [1024 * 1024, 4093, 333];
      for (const size of sizes) {
        const got = await sliced([delta], file, size);
        expect(got.code).toBe(whole.code);
        expect(sha256(got.bytes)).toBe(sha256(whole.bytes));
      }
    } finally {
      await file?.close();
    }
  });

  it.each(corrupt.map((c) => [c.name, c] as const))("%s: same outcome sliced as whole", async (_name, c) => {
    const { delta, source } = await readCase(c);
    const src = source ? bufferSource(source) : null;
    const whole = await wholeWindows([delta], src);
    for (const size of [1024 * 1024, 1000, 7]) {
      const got = await sliced([delta], src, size);
      expect(got.code).toBe(whole.code);
      expect(sha256(got.bytes)).toBe(sha256(whole.bytes));
    }
  });
});

describe("decodeSlices, slice boundaries inside instructions", () => {
  const source = "0123456789abcdefghijklmnopqrstuvwxyz".repeat(3);
  // ADD 5, RUN 40, COPY 50 from the source, a self-overlapping COPY (period 3) of 61 bytes, ADD 3, COPY of target.
  const window: TestWindow = {
    segment: [source.length, 0],
    targetLength: 5 + 40 + 50 + 3 + 61 + 3 + 20,
    data: [...bytesOf("hello"), 0x2a, ...bytesOf("xyz"), ...bytesOf("end")],
    inst: [...add(5), ...run(40), ...copy(50), ...add(3), ...copy(61), ...add(3), ...copy(20)],
    // COPY 50 at source 7; COPY 61 at target 95 (= "xyz" just added, so it repeats); COPY 20 at target 10 (mode 0).
    addr: [...encodeVarint(7), ...encodeVarint(source.length + 95), ...encodeVarint(source.length + 10)],
  };
  const delta = buildDelta([window, { ...window }]);

  it("every slice size from 1 to past the window gives the whole-window bytes", async () => {
    const src = bufferSource(new TextEncoder().encode(source));
    const expected = await decodeVcdiffBuffer(delta, new TextEncoder().encode(source));
    expect(expected.length).toBe(2 * window.targetLength);
    // The self-overlapping COPY really repeats the pattern: a check on the fixture itself.
    expect(new TextDecoder().decode(expected.subarray(95, 95 + 64))).toBe(`${"xyz".repeat(21)}x`);
    for (let size = 1; size <= window.targetLength + 1; size++) {
      const got = await sliced([delta], src, size);
      expect(got.code).toBeUndefined();
      expect(Buffer.from(got.bytes).equals(Buffer.from(expected))).toBe(true);
    }
  });

  it("marks each window's last slice", async () => {
    const reader = await openVcdiff([delta], { verifyChecksum: false });
    const ends: number[] = [];
    let at = 0;
    for await (const slice of reader.decodeSlices(bufferSource(new TextEncoder().encode(source)), 50)) {
      at += slice.bytes.length;
      if (slice.windowEnd) ends.push(at);
    }
    expect(ends).toEqual([window.targetLength, 2 * window.targetLength]);
    expect(reader.windowsDecoded).toBe(2);
    expect(reader.bytesProduced).toBe(2 * window.targetLength);
  });

  it("is refused unless the reader was opened with verifyChecksum: false", async () => {
    const reader = await openVcdiff([delta]);
    await expect(reader.decodeSlices(null, 10).next()).rejects.toThrow(/verifyChecksum/);
  });
});

describe("decodeSlices, errors", () => {
  const good: TestWindow = { targetLength: 4000, data: [7], inst: [...run(4000)] };
  // Valid until its last instruction: a COPY from beyond `here`.
  const lateBad: TestWindow = {
    targetLength: 4000,
    data: [1],
    inst: [...run(3990), ...copy(10)],
    addr: [...encodeVarint(3995)],
  };

  it("a corrupt instruction late in a window fails with the whole-window decoder's code", async () => {
    const delta = buildDelta([good, lateBad]);
    const whole = await wholeWindows([delta], null);
    expect(whole.code).toBe("invalid_format");
    for (const size of [1, 100, 1000, 5000]) {
      const got = await sliced([delta], null, size);
      expect(got.code).toBe(whole.code);
      // The first window went out whole; nothing of the bad one did.
      expect(got.bytes.length).toBe(4000);
    }
  });

  it("a source read failing after slices went out fails the stream with the same error", async () => {
    const size = 3 * 1024 * 1024;
    const bytes = new Uint8Array(size).fill(3);
    // Three copies, each from a different MiB of the source (more than MERGE_GAP apart, so three reads).
    const win: TestWindow = {
      segment: [size, 0],
      targetLength: 3000,
      inst: [...copy(1000), ...copy(1000), ...copy(1000)],
      addr: [...encodeVarint(0), ...encodeVarint(1_500_000), ...encodeVarint(3_000_000)],
    };
    const failing: SourceReader = {
      size,
      read(offset, length) {
        if (offset >= 3_000_000) throw new VcdiffError("invalid_format", "source read failed");
        return bytes.subarray(offset, offset + length);
      },
    };
    const delta = buildDelta([win]);
    const whole = await wholeWindows([delta], failing);
    expect(whole.code).toBe("invalid_format");
    const got = await sliced([delta], failing, 1000);
    expect(got.code).toBe(whole.code);
    // Two slices went out: the failing read (the third slice's) starts, as a prefetch, when the second goes out.
    expect(got.bytes.length).toBe(2000);
  });
});

describe("decodeSlices, reading the source on demand", () => {
  it("yields the first slice before the window's last source span is read", async () => {
    const size = 9 * 1024 * 1024;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31) >>> 8;
    // Eight copies of 64 KiB, 1.1 MiB apart in the source (beyond MERGE_GAP: eight separate reads).
    const step = 1_150_000;
    const piece = 65_536;
    const win: TestWindow = {
      segment: [size, 0],
      targetLength: 8 * piece,
      inst: Array.from({ length: 8 }, () => copy(piece)).flat(),
      addr: Array.from({ length: 8 }, (_, i) => [...encodeVarint(i * step)]).flat(),
    };
    const reads: number[] = [];
    const counting: SourceReader = {
      size,
      read(offset, length) {
        reads.push(offset);
        return bytes.subarray(offset, offset + length);
      },
    };
    const delta = buildDelta([win]);
    const reader = await openVcdiff([delta], { verifyChecksum: false });
    const readsAtSlice: number[] = [];
    const parts: Uint8Array[] = [];
    for await (const slice of reader.decodeSlices(counting, piece)) {
      readsAtSlice.push(reads.length);
      parts.push(Uint8Array.from(slice.bytes));
    }
    expect(reads.length).toBe(8);
    // At the first slice, that slice's span and (prefetched) the next one's were read: not the other six.
    expect(readsAtSlice[0]).toBeLessThanOrEqual(2);
    expect(reads.slice(0, 2)).toEqual([0, step]);
    expect(readsAtSlice).toEqual([2, 3, 4, 5, 6, 7, 8, 8]);
    const expected = await decodeVcdiffBuffer(delta, bytes);
    expect(Buffer.concat(parts).equals(Buffer.from(expected))).toBe(true);
  });
});

describe("decodeSlices, fuzzed", () => {
  it("2,000 seeded mutations of xdelta3 deltas end the same sliced as whole (error code, bytes)", {
    timeout: 120_000,
  }, async () => {
    const subjects = await Promise.all(CASE_NAMES.map(loadSubject));
    const random = seededRandom(0x51ce);
    const differences: string[] = [];
    const codes = new Set<string>();
    for (let i = 0; i < 2000 && differences.length < 10; i++) {
      const s = subjects[i % subjects.length];
      const m = mutate(s, random);
      const src = s.source ? bufferSource(s.source) : null;
      const sliceSize = 1 + Math.floor(random() * 20_000);
      const whole = await wholeWindows([m.bytes], src, LIMITS);
      const got = await sliced([m.bytes], src, sliceSize, LIMITS);
      codes.add(whole.code ?? "decoded");
      if (got.code !== whole.code || sha256(got.bytes) !== sha256(whole.bytes)) {
        differences.push(`#${i} ${s.name} ${m.kind} slice ${sliceSize}: ${got.code} vs ${whole.code}`);
      }
    }
    expect(differences).toEqual([]);
    // The mutations reach the decoder's refusals, not only its happy path.
    expect(codes.has("invalid_format")).toBe(true);
  });
});
