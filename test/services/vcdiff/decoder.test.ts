import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adler32,
  bufferSource,
  type DecodeOptions,
  decodeVcdiffBuffer,
  fileSource,
  openVcdiff,
  type SourceReader,
  VCD_ADLER32,
  VCD_SOURCE,
  VCD_TARGET,
  VcdiffError,
} from "../../../src/services/vcdiff/index.js";
import { encodeVarint } from "../../../src/services/vcdiff/varint.js";
import {
  caseFiles,
  hasXdelta3,
  randomChunks,
  readCase,
  seededRandom,
  sha256,
  VCDIFF_CASES,
  type VcdiffCase,
  vcdiffCase,
} from "../../helpers/vcdiff-fixtures.js";

async function decodeError(promise: Promise<unknown>): Promise<VcdiffError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VcdiffError);
    return error as VcdiffError;
  }
  throw new Error("expected the decode to fail");
}

/** Streams a decode, hashing the output; returns the reader stats too. */
async function decodeStream(delta: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, source: SourceReader | null) {
  const reader = await openVcdiff(delta);
  const hash = createHash("sha256");
  let length = 0;
  let chunks = 0;
  for await (const chunk of reader.decode(source)) {
    hash.update(chunk);
    length += chunk.length;
    chunks++;
  }
  return { sha256: hash.digest("hex"), length, chunks, reader };
}

/** Wraps a SourceReader to count the bytes and calls actually read. */
function countingSource(inner: SourceReader) {
  const stats = { calls: 0, bytes: 0 };
  const reader: SourceReader = {
    size: inner.size,
    read(offset, length) {
      stats.calls++;
      stats.bytes += length;
      return inner.read(offset, length);
    },
  };
  return { reader, stats };
}

const usesHuffman = (c: VcdiffCase) => /-S (djw|fgk)/.test(c.xdelta3?.encode ?? "");

describe("fixture cases", () => {
  const valid = VCDIFF_CASES.filter((c) => c.kind === "valid");
  const corrupt = VCDIFF_CASES.filter((c) => c.kind === "corrupt");

  it.each(valid.map((c, i) => [c.name, c, i] as const))("decodes %s", async (_name, c, i) => {
    const files = await caseFiles(c);
    const file = files.source ? await fileSource(files.source) : null;
    try {
      // Alternate delta feeding: a Node Readable, or tiny random chunks that split every field somewhere.
      const delta =
        i % 2 === 0
          ? createReadStream(files.delta, { highWaterMark: 1 + (i % 7) * 977 })
          : randomChunks(await readFile(files.delta), seededRandom(i), 64);
      if (usesHuffman(c)) {
        expect((await decodeError(decodeStream(delta, file))).code).toBe("unsupported");
        return;
      }
      const result = await decodeStream(delta, file);
      expect(result.length).toBe(c.target_size);
      expect(result.sha256).toBe(c.sha256.target);
      expect(result.reader.bytesProduced).toBe(c.target_size);
      expect(result.reader.windowsDecoded).toBe(c.headers?.windows);
      expect(result.chunks).toBeLessThanOrEqual(result.reader.windowsDecoded);
    } finally {
      await file?.close();
    }
  });

  it.each(valid.filter((c) => !usesHuffman(c)).map((c) => [c.name, c] as const))(
    "window headers of %s match xdelta3 printhdrs",
    async (_name, c) => {
      const reader = await openVcdiff(createReadStream((await caseFiles(c)).delta));
      expect(reader.header.size).toBe(c.headers?.header_size);
      const apphead = reader.header.appHeader ? new TextDecoder().decode(reader.header.appHeader.raw) : null;
      expect(apphead).toBe(c.headers?.apphead ?? null);
      const seen = [];
      for await (const win of reader.windows()) seen.push(win);
      const expected = c.headers?.window_list ?? [];
      expect(seen.length).toBe(expected.length);
      seen.forEach((win, i) => {
        const want = expected[i];
        expect(win.targetLength).toBe(want.target_window_length);
        expect([win.dataLength, win.instLength, win.addrLength]).toEqual([want.data_len, want.inst_len, want.addr_len]);
        expect(Boolean(win.winIndicator & VCD_SOURCE)).toBe(want.win_indicator.includes("VCD_SOURCE"));
        if (want.copy_window_length !== undefined) {
          expect(win.sourceSegmentLength).toBe(want.copy_window_length);
          expect(win.sourceSegmentPosition).toBe(want.copy_window_offset);
        }
        expect(win.adler32 === null ? undefined : win.adler32.toString(16).padStart(8, "0")).toBe(want.adler32);
      });
    },
  );

  it.each(corrupt.map((c) => [c.name, c] as const))("rejects %s as the manifest says", async (_name, c) => {
    const { delta, source } = await readCase(c);
    const src = source ? bufferSource(source) : null;
    const expectation = c.expect;
    if (expectation?.outcome === "short_output") {
      const result = await decodeStream([delta], src);
      expect(result.reader.bytesProduced).toBe(expectation.output_size);
      expect(result.reader.bytesProduced).toBeLessThan(c.target_size);
      expect(result.sha256).toBe(expectation.output_sha256);
      return;
    }
    const error = await decodeError(decodeStream(randomChunks(delta, seededRandom(delta.length), 512), src));
    expect([expectation?.error_class, ...(expectation?.also_acceptable ?? [])]).toContain(error.code);
    expect(error.message.startsWith(`${error.code}: `)).toBe(true);
  });
});

describe("file header", () => {
  it("parses the xdelta3 application header and secondary compressor", async () => {
    const reader = await openVcdiff([(await readCase(vcdiffCase("text-edit"))).delta]);
    expect(reader.header.secondary).toBe("lzma");
    expect(reader.header.hdrIndicator).toBe(0x05);
    expect(reader.header.appHeader).toMatchObject({
      targetName: "target.bin",
      targetCompression: "",
      sourceName: "source.bin",
      sourceCompression: "",
    });
    await reader.close();
  });

  it("keeps opaque application headers raw and reports none when absent", async () => {
    const custom = await openVcdiff([(await readCase(vcdiffCase("text-edit-custom-apphead"))).delta]);
    expect(new TextDecoder().decode(custom.header.appHeader?.raw)).toBe("glider-fixture-v1");
    expect(custom.header.appHeader?.targetName).toBe("");
    const none = await openVcdiff([(await readCase(vcdiffCase("text-edit-no-apphead"))).delta]);
    expect(none.header.appHeader).toBeNull();
    const nosec = await openVcdiff([(await readCase(vcdiffCase("text-edit-nosec"))).delta]);
    expect(nosec.header.secondary).toBe("none");
  });

  it("reads compression letters from a four-field header", async () => {
    const delta = buildDelta([{ targetLength: 1, data: [0x41], inst: [...run(1)] }], {
      appHeader: "a.tar.gz/G/b.tar.bz2/B",
    });
    const reader = await openVcdiff([delta]);
    expect(reader.header.appHeader).toMatchObject({
      targetName: "a.tar.gz",
      targetCompression: "G",
      sourceName: "b.tar.bz2",
      sourceCompression: "B",
    });
  });

  it.each([
    ["custom code table", [0xd6, 0xc3, 0xc4, 0x00, 0x02], "unsupported"],
    ["DJW secondary", [0xd6, 0xc3, 0xc4, 0x00, 0x01, 0x01], "unsupported"],
    ["FGK secondary", [0xd6, 0xc3, 0xc4, 0x00, 0x01, 0x10], "unsupported"],
    ["unknown secondary", [0xd6, 0xc3, 0xc4, 0x00, 0x01, 0x07], "invalid_format"],
    ["unknown header bits", [0xd6, 0xc3, 0xc4, 0x00, 0x08], "invalid_format"],
    ["bad magic", [0xd6, 0xc3, 0xc5, 0x00, 0x00], "invalid_format"],
    ["empty input", [], "truncated"],
    ["header without windows", [0xd6, 0xc3, 0xc4, 0x00, 0x00], "truncated"],
  ] as const)("rejects %s", async (_name, bytes, code) => {
    expect((await decodeError(decodeVcdiffBuffer(Uint8Array.from(bytes), null))).code).toBe(code);
  });
});

// --- hand-built deltas (default code table: 0 RUN, 1 ADD, 19+16m COPY mode m, each with a varint size) ---

const run = (size: number) => [0, ...encodeVarint(size)];
const add = (size: number) => [1, ...encodeVarint(size)];
const copy = (size: number, mode = 0) => [19 + 16 * mode, ...encodeVarint(size)];
const text = (s: string) => [...new TextEncoder().encode(s)];

interface TestWindow {
  indicator?: number;
  segment?: [length: number, position: number];
  targetLength: number;
  deltaIndicator?: number;
  data?: number[];
  inst: number[];
  addr?: number[];
  /** Adler-32 to store with VCD_ADLER32 (the test computes it from the expected target). */
  adler?: number;
  /** Added to the computed delta encoding length, to corrupt it. */
  deltaLengthSkew?: number;
}

function buildDelta(windows: TestWindow[], options: { hdrIndicator?: number; appHeader?: string } = {}): Uint8Array {
  const out: number[] = [0xd6, 0xc3, 0xc4, 0x00];
  if (options.appHeader !== undefined) {
    const app = text(options.appHeader);
    out.push((options.hdrIndicator ?? 0) | 0x04, ...encodeVarint(app.length), ...app);
  } else {
    out.push(options.hdrIndicator ?? 0);
  }
  for (const w of windows) {
    const data = w.data ?? [];
    const addr = w.addr ?? [];
    const indicator = (w.indicator ?? 0) | (w.adler !== undefined ? VCD_ADLER32 : 0);
    out.push(indicator);
    if (w.segment) out.push(...encodeVarint(w.segment[0]), ...encodeVarint(w.segment[1]));
    const body = [
      ...encodeVarint(w.targetLength),
      w.deltaIndicator ?? 0,
      ...encodeVarint(data.length),
      ...encodeVarint(w.inst.length),
      ...encodeVarint(addr.length),
    ];
    if (w.adler !== undefined)
      body.push(w.adler >>> 24, (w.adler >>> 16) & 0xff, (w.adler >>> 8) & 0xff, w.adler & 0xff);
    body.push(...data, ...w.inst, ...addr);
    out.push(...encodeVarint(body.length + (w.deltaLengthSkew ?? 0)), ...body);
  }
  return Uint8Array.from(out);
}

const decodeText = async (delta: Uint8Array, source: string | null, options?: DecodeOptions) =>
  new TextDecoder().decode(
    await decodeVcdiffBuffer(delta, source === null ? null : new TextEncoder().encode(source), options),
  );

describe("instructions", () => {
  it("copies overlapping target ranges as a repeating pattern, byte for byte", async () => {
    const want = "abc".repeat(400).slice(0, 1000) + "x".repeat(50) + "xy".repeat(40);
    const delta = buildDelta([
      {
        targetLength: want.length,
        data: text("abcxxy"),
        inst: [...add(3), ...copy(997, 0), ...run(50), ...add(2), ...copy(78, 1)],
        addr: [...encodeVarint(0), ...encodeVarint(2)],
        adler: adler32(new TextEncoder().encode(want)),
      },
    ]);
    expect(await decodeText(delta, null)).toBe(want);
  });

  it("refuses a COPY straddling the source segment and the target window, as xdelta3 does", async () => {
    const straddle = (second: number) =>
      buildDelta([
        {
          indicator: VCD_SOURCE,
          segment: [4, 4],
          targetLength: 10,
          inst: [...copy(4), ...copy(6)],
          addr: [...encodeVarint(0), ...encodeVarint(second)],
        },
      ]);
    // RFC 3284 would allow it; xdelta3 3.0.11 says "size too large".
    const error = await decodeError(decodeText(straddle(2), "ABCDEFGH"));
    expect(error.code).toBe("invalid_format");
    expect(error.message).toMatch(/crosses the end of the 4-byte segment/);
    // The same COPY from the target window alone (address 4 = target offset 0, overlapping) is fine.
    expect(await decodeText(straddle(4), "ABCDEFGH")).toBe("EFGHEFGHEF");
  });

  it("accepts a segment reaching past the source when no COPY reads there, as xdelta3 does", async () => {
    const delta = (address: number) =>
      buildDelta([{ indicator: VCD_SOURCE, segment: [8, 2], targetLength: 2, inst: copy(2), addr: [address] }]);
    expect(await decodeText(delta(0), "ABCDEF")).toBe("CD");
    const error = await decodeError(decodeText(delta(3), "ABCDEF"));
    expect(error.code).toBe("invalid_format");
    expect(error.message).toMatch(/beyond the source's end \(6\)/);
  });

  it("uses the near and same caches", async () => {
    // COPY 4 @1 (self), COPY 4 @ near[0]+2 = 3 (mode 2), COPY 4 @ same[3] (mode 6, byte 3).
    const delta = buildDelta([
      {
        indicator: VCD_SOURCE,
        segment: [10, 0],
        targetLength: 12,
        inst: [...copy(4, 0), ...copy(4, 2), ...copy(4, 6)],
        addr: [...encodeVarint(1), ...encodeVarint(2), 3],
      },
    ]);
    expect(await decodeText(delta, "0123456789")).toBe("123434563456");
  });

  it("decodes VCD_TARGET windows from earlier target bytes, within maxTargetHistory", async () => {
    const delta = buildDelta([
      { targetLength: 11, data: text("hello world"), inst: add(11) },
      {
        indicator: VCD_TARGET,
        segment: [5, 6],
        targetLength: 10,
        inst: [...copy(5), ...copy(5)],
        addr: [...encodeVarint(0), ...encodeVarint(0)],
      },
    ]);
    // Off by default: xdelta3 3.0.11 refuses VCD_TARGET windows ("not implemented").
    expect((await decodeError(decodeText(delta, null))).code).toBe("unsupported");
    expect(await decodeText(delta, null, { targetWindows: true })).toBe("hello worldworldworld");
    expect((await decodeError(decodeText(delta, null, { targetWindows: true, maxTargetHistory: 0 }))).code).toBe(
      "limit_exceeded",
    );
    const beyond = buildDelta([
      { targetLength: 1, data: [1], inst: add(1) },
      { indicator: VCD_TARGET, segment: [1, 1], targetLength: 1, inst: copy(1), addr: [0] },
    ]);
    expect((await decodeError(decodeText(beyond, null, { targetWindows: true }))).code).toBe("invalid_format");
  });

  it.each([
    [
      "a source segment past the source",
      [{ indicator: VCD_SOURCE, segment: [4, 5], targetLength: 1, inst: copy(1), addr: [0] }],
      "invalid_format",
    ],
    [
      "a VCD_TARGET window (xdelta3 3.0.11 does not implement them)",
      [{ indicator: VCD_TARGET, segment: [1, 0], targetLength: 1, inst: copy(1), addr: [0] }],
      "unsupported",
    ],
    [
      "an instruction size above 2^32 - 1",
      [{ targetLength: 1, data: [1], inst: [1, 0x90, 0x80, 0x80, 0x80, 0x00] }],
      "invalid_format",
    ],
    [
      "a COPY address at or past here",
      [{ targetLength: 2, data: [1], inst: [...add(1), ...copy(1)], addr: [1] }],
      "invalid_format",
    ],
    ["an ADD past the data section", [{ targetLength: 2, data: [1], inst: add(2) }], "invalid_format"],
    ["unused data bytes", [{ targetLength: 1, data: [1, 2], inst: add(1) }], "invalid_format"],
    ["unused address bytes", [{ targetLength: 1, data: [1], inst: add(1), addr: [0] }], "invalid_format"],
    ["output shorter than the window", [{ targetLength: 3, data: [1], inst: add(1) }], "invalid_format"],
    ["output longer than the window", [{ targetLength: 1, data: [1], inst: run(2) }], "invalid_format"],
    ["an instruction size past the section", [{ targetLength: 1, data: [1], inst: [1] }], "invalid_format"],
    [
      "an inconsistent delta encoding length",
      [{ targetLength: 1, data: [1], inst: add(1), deltaLengthSkew: 1 }],
      "invalid_format",
    ],
    [
      "compressed sections without a secondary compressor",
      [{ targetLength: 1, data: [1], inst: add(1), deltaIndicator: 1 }],
      "invalid_format",
    ],
    ["a wrong Adler-32", [{ targetLength: 1, data: [1], inst: add(1), adler: 12345 }], "checksum_mismatch"],
    [
      "a source window without a source",
      [{ indicator: VCD_SOURCE, segment: [1, 0], targetLength: 1, inst: copy(1), addr: [0] }],
      "invalid_format",
    ],
  ] as [string, TestWindow[], string][])("rejects %s", async (name, windows, code) => {
    const source = name.includes("without a source") ? null : "ABCD";
    expect((await decodeError(decodeText(buildDelta(windows), source))).code).toBe(code);
  });

  it("refuses windows and sections above maxWindowSize before reading them", async () => {
    const options = { maxWindowSize: 100 };
    const big = buildDelta([{ targetLength: 101, data: [1], inst: run(101) }]);
    expect((await decodeError(decodeText(big, null, options))).code).toBe("limit_exceeded");
    const data = buildDelta([{ targetLength: 1, data: new Array(101).fill(0), inst: add(1) }]);
    expect((await decodeError(decodeText(data, null, options))).code).toBe("limit_exceeded");
    // A section length of 2^40 in a short delta: the limit, not a truncation or an allocation.
    const huge = Uint8Array.from([0xd6, 0xc3, 0xc4, 0, 0, 0, 10, 1, 0, ...encodeVarint(2 ** 40), 0, 0]);
    expect((await decodeError(decodeVcdiffBuffer(huge, null))).code).toBe("limit_exceeded");
  });

  it("can skip Adler-32 verification", async () => {
    const delta = buildDelta([{ targetLength: 1, data: [65], inst: add(1), adler: 12345 }]);
    expect(await decodeText(delta, null, { verifyChecksum: false })).toBe("A");
  });
});

describe("streaming and lazy source reads", () => {
  it("yields one chunk per window and stops reading the delta when the consumer stops", async () => {
    const { delta, source } = await readCase(vcdiffCase("multiwindow-small"));
    let pulls = 0;
    let returned = false;
    const iterable: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        let offset = 0;
        return {
          async next() {
            if (offset >= delta.length) return { done: true, value: undefined };
            pulls++;
            offset += 100;
            return { done: false, value: delta.subarray(offset - 100, offset) };
          },
          async return() {
            returned = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    const reader = await openVcdiff(iterable);
    for await (const chunk of reader.decode(bufferSource(source as Uint8Array))) {
      expect(chunk.length).toBe(16384);
      break;
    }
    expect(returned).toBe(true);
    expect(pulls).toBeLessThan(delta.length / 100 / 2);
    expect(reader.windowsDecoded).toBe(1);
  });

  it("reads only the source ranges a window copies, not its declared segment (srcwin-move)", async () => {
    const c = vcdiffCase("srcwin-move");
    const files = await caseFiles(c);
    const file = await fileSource(files.source as string);
    try {
      const { reader, stats } = countingSource(file);
      const result = await decodeStream(createReadStream(files.delta), reader);
      expect(result.sha256).toBe(c.sha256.target);
      const windows = c.headers?.window_list ?? [];
      const declared = windows.reduce((sum, w) => sum + (w.copy_window_length ?? 0), 0);
      const used = windows.reduce(
        (sum, w) => sum + (w.source_range_used ? w.source_range_used[1] - w.source_range_used[0] : 0),
        0,
      );
      expect(stats.bytes).toBeLessThan(declared / 4);
      expect(stats.bytes).toBeLessThanOrEqual(used);
      expect(stats.calls).toBeLessThanOrEqual(4 * (c.headers?.windows ?? 0));
    } finally {
      await file.close();
    }
  });

  it("reads widely separated source ranges separately", async () => {
    const size = 64 * 1024 * 1024;
    const fake: SourceReader = { size, read: (offset, length) => new Uint8Array(length).fill(offset % 251) };
    const { reader, stats } = countingSource(fake);
    const far = 40 * 1024 * 1024;
    const delta = buildDelta([
      {
        indicator: VCD_SOURCE,
        segment: [size, 0],
        targetLength: 200,
        inst: [...copy(100), ...copy(100)],
        addr: [...encodeVarint(10), ...encodeVarint(far)],
      },
    ]);
    const out = (await decodeStream([delta], reader)).reader;
    expect(out.bytesProduced).toBe(200);
    expect(stats.calls).toBe(2);
    expect(stats.bytes).toBe(200);
  });
});

describe("scattered source copies", () => {
  /** A source of `size` bytes whose byte at offset o is o % 251, without holding it in memory. */
  const patternSource = (size: number) =>
    countingSource({
      size,
      read(offset, length) {
        const out = new Uint8Array(length);
        for (let i = 0; i < length; i++) out[i] = (offset + i) % 251;
        return out;
      },
    });
  const scattered = (count: number, spacing: number, segment: number) =>
    buildDelta([
      {
        indicator: VCD_SOURCE,
        segment: [segment, 0],
        targetLength: 4 * count,
        inst: Array.from({ length: count }, () => copy(4)).flat(),
        addr: Array.from({ length: count }, (_, k) => [...encodeVarint(k * spacing)]).flat(),
      },
    ]);

  it("coalesces thousands of copies into a few reads", async () => {
    const { reader, stats } = patternSource(64 * 1024 * 1024);
    const count = 3000;
    const result = await openVcdiff([scattered(count, 20_000, reader.size)]);
    const parts: Uint8Array[] = [];
    for await (const chunk of result.decode(reader)) parts.push(chunk);
    const bytes = Buffer.concat(parts);
    for (let k = 0; k < count; k++) {
      for (let i = 0; i < 4; i++) expect(bytes[4 * k + i]).toBe((k * 20_000 + i) % 251);
    }
    expect(stats.calls).toBeLessThanOrEqual(2);
    expect(stats.bytes).toBeLessThanOrEqual(count * 20_000);
  });

  it("refuses to hold more source than 4x maxWindowSize for one window", async () => {
    const { reader, stats } = patternSource(2 ** 40);
    // Segment and addresses stay below 2^32, as xdelta3's 32-bit sizes require.
    const segment = 2 ** 32 - 1 - 8000;
    const reading = openVcdiff([scattered(2000, 2 * 1024 * 1024, segment)], { maxWindowSize: 1024 * 1024 });
    const error = await decodeError(
      reading.then(async (r) => {
        for await (const _ of r.decode(reader)) {
          // drain
        }
      }),
    );
    expect(error.code).toBe("limit_exceeded");
    expect(stats.calls).toBe(0);
  });
});

// --- interoperability with the real xdelta3 ---

function seededInputs(seed: number, size: number): { source: Uint8Array; target: Uint8Array } {
  const random = seededRandom(seed);
  const words = ["alpha", "beta", "gamma", "delta", "glider", "bucket", "object", "window", "\n", "0x1f", "版本"];
  const source = new Uint8Array(size);
  let pos = 0;
  while (pos < size) {
    if (random() < 0.2) {
      const n = Math.min(size - pos, 1 + Math.floor(random() * 2048));
      for (let i = 0; i < n; i++) source[pos++] = Math.floor(random() * 256);
    } else {
      const word = new TextEncoder().encode(`${words[Math.floor(random() * words.length)]} `);
      const n = Math.min(size - pos, word.length);
      source.set(word.subarray(0, n), pos);
      pos += n;
    }
  }
  const parts: Uint8Array[] = [];
  let at = 0;
  while (at < size) {
    const len = 1 + Math.floor(random() * 8192);
    const r = random();
    if (r < 0.1) {
      parts.push(Uint8Array.from({ length: len % 700 }, () => Math.floor(random() * 256)));
    } else if (r < 0.15) {
      const from = Math.floor(random() * size);
      parts.push(source.subarray(from, from + len));
    } else if (r < 0.2) {
      at += len; // deletion
      continue;
    }
    parts.push(source.subarray(at, at + len));
    at += len;
  }
  return { source, target: Buffer.concat(parts) };
}

describe("decodes what xdelta3 3.x encodes", () => {
  it("needs xdelta3 on PATH (CI installs it; a missing tool fails, never skips)", () => {
    expect(hasXdelta3).toBe(true);
  });
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-vcdiff-interop-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["defaults (-9, LZMA)", ["-9"], true],
    ["-S none", ["-9", "-S", "none"], true],
    ["-n", ["-9", "-n"], true],
    ["-A", ["-9", "-A"], true],
    ["-0", ["-0"], true],
    ["-W 16384 (many windows)", ["-9", "-W", "16384"], true],
    ["-S none -W 16384", ["-9", "-S", "none", "-W", "16384"], true],
    ["no source", ["-9"], false],
    ["no source, -S none -W 16384", ["-9", "-S", "none", "-W", "16384"], false],
  ] as const)("%s", async (name, flags, withSource) => {
    for (let seed = 1; seed <= 3; seed++) {
      const { source, target } = seededInputs(seed * 7919 + name.length, 100_000 + seed * 60_000);
      const base = join(dir, `${name.replace(/\W+/g, "_")}-${seed}`);
      await writeFile(`${base}.src`, source);
      await writeFile(`${base}.tgt`, target);
      const args = [
        "-e",
        "-f",
        ...flags,
        ...(withSource ? ["-s", `${base}.src`] : []),
        `${base}.tgt`,
        `${base}.vcdiff`,
      ];
      const encoded = spawnSync("xdelta3", args, { encoding: "utf8" });
      expect(encoded.status, encoded.stderr).toBe(0);
      const delta = await readFile(`${base}.vcdiff`);
      const out = await decodeVcdiffBuffer(delta, withSource ? source : null);
      expect(out.length).toBe(target.length);
      expect(sha256(out)).toBe(sha256(target));
    }
  });
});
