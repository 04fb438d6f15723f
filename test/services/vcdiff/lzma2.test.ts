import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VcdiffError } from "../../../src/services/vcdiff/errors.js";
import { XzSectionDecoder } from "../../../src/services/vcdiff/lzma2.js";

const FIXTURES = "/work/shared/fixtures/vcdiff";

// ---------------------------------------------------------------------------------------------------------------
// Helpers: seeded PRNG, CRC32, a minimal VCDIFF section extractor, an LZMA2 chunk walker and a python3 oracle.

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function withCrc(bytes: number[]): Uint8Array {
  const c = crc32(Uint8Array.from(bytes));
  return Uint8Array.from([...bytes, c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24]);
}

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

type Kind = "data" | "inst" | "addr";
const KINDS: Kind[] = ["data", "inst", "addr"];

interface Section {
  window: number;
  kind: Kind;
  compressed: boolean;
  /** The raw section bytes as stored in the delta. */
  raw: Uint8Array;
  /** For compressed sections: the declared decompressed length and the XZ slice after the varint. */
  length: number;
  slice: Uint8Array;
}

/** Just enough RFC 3284 to cut a delta into its sections. */
function parseVcdiff(delta: Uint8Array): { secondaryId: number | null; sections: Section[] } {
  let p = 0;
  const varint = (): number => {
    let v = 0;
    for (;;) {
      if (p >= delta.length) throw new Error("varint runs past the delta");
      const b = delta[p++];
      v = v * 128 + (b & 0x7f);
      if (b < 0x80) return v;
    }
  };
  expect([...delta.subarray(0, 4)]).toEqual([0xd6, 0xc3, 0xc4, 0x00]);
  p = 4;
  const hdr = delta[p++];
  const secondaryId = hdr & 0x01 ? delta[p++] : null;
  if (hdr & 0x04) {
    const appHeaderLength = varint();
    p += appHeaderLength;
  }
  const sections: Section[] = [];
  for (let window = 0; p < delta.length; window++) {
    const winIndicator = delta[p++];
    if (winIndicator & 0x03) {
      varint();
      varint();
    }
    varint(); // delta encoding length
    varint(); // target window length
    const deltaIndicator = delta[p++];
    const lengths = [varint(), varint(), varint()];
    if (winIndicator & 0x04) p += 4;
    KINDS.forEach((kind, k) => {
      const raw = delta.subarray(p, p + lengths[k]);
      p += lengths[k];
      const compressed = (deltaIndicator & (1 << k)) !== 0;
      let length = raw.length;
      let slice = raw;
      if (compressed) {
        let q = 0;
        length = 0;
        for (;;) {
          if (q >= raw.length) throw new Error("section length varint runs past the section");
          const b = raw[q++];
          length = length * 128 + (b & 0x7f);
          if (b < 0x80) break;
        }
        slice = raw.subarray(q);
      }
      sections.push({ window, kind, compressed, raw, length, slice });
    });
  }
  return { secondaryId, sections };
}

interface Chunk {
  start: number;
  end: number;
  unpacked: number;
}

/** Walks LZMA2 chunks from `offset` up to (not including) an end byte or the end of the input. */
function walkChunks(bytes: Uint8Array, offset: number): { chunks: Chunk[]; end: number } {
  const chunks: Chunk[] = [];
  let p = offset;
  while (p < bytes.length && bytes[p] !== 0) {
    const c = bytes[p];
    if (c >= 0x80) {
      const unpacked = (c & 0x1f) * 65536 + bytes[p + 1] * 256 + bytes[p + 2] + 1;
      const packed = bytes[p + 3] * 256 + bytes[p + 4] + 1;
      const end = p + (c >= 0xc0 ? 6 : 5) + packed;
      chunks.push({ start: p, end, unpacked });
      p = end;
    } else {
      const size = bytes[p + 1] * 256 + bytes[p + 2] + 1;
      chunks.push({ start: p, end: p + 3 + size, unpacked: size });
      p += 3 + size;
    }
  }
  return { chunks, end: p };
}

const xzHeaderSize = (stream: Uint8Array): number => 12 + (stream[12] + 1) * 4;

/** python3's liblzma: compresses `data` to an XZ stream and returns it up to and including the LZMA2 end byte. */
const PY_COMPRESS = `
import lzma, sys, json
opts = json.loads(sys.argv[1])
check = opts.pop("check", lzma.CHECK_NONE)
filters = [dict(opts, id=lzma.FILTER_LZMA2)]
data = sys.stdin.buffer.read()
raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters)
# An empty stream has no block at all, so take the headers of a one-byte stream.
xz = lzma.compress(data or b"x", format=lzma.FORMAT_XZ, check=check, filters=filters)
assert raw[-1] == 0 and xz[12] == 2 and (not data or xz[24:24 + len(raw)] == raw)
sys.stdout.buffer.write(xz[:24] + raw)
`;

/** python3's liblzma as a streaming decoder: each framed input is a (possibly unfinished) XZ stream prefix. */
const PY_DECOMPRESS = `
import lzma, struct, sys
data = sys.stdin.buffer.read(); p = 0; out = []
while p < len(data):
    (n,) = struct.unpack_from("<I", data, p); p += 4
    d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[p:p + n]); p += n
    out.append(struct.pack("<I", len(d)) + d)
sys.stdout.buffer.write(b"".join(out))
`;

function pythonCompress(data: Uint8Array, opts: Record<string, number>): Uint8Array {
  return new Uint8Array(
    execFileSync("python3", ["-c", PY_COMPRESS, JSON.stringify(opts)], { input: data, maxBuffer: 1 << 28 }),
  );
}

function pythonDecompress(streams: Uint8Array[]): Uint8Array[] {
  const framed = streams.flatMap((s) => {
    const n = Buffer.alloc(4);
    n.writeUInt32LE(s.length);
    return [n, Buffer.from(s)];
  });
  const out = execFileSync("python3", ["-c", PY_DECOMPRESS], { input: Buffer.concat(framed), maxBuffer: 1 << 28 });
  const result: Uint8Array[] = [];
  for (let p = 0; p < out.length; ) {
    const n = out.readUInt32LE(p);
    result.push(new Uint8Array(out.subarray(p + 4, p + 4 + n)));
    p += 4 + n;
  }
  return result;
}

function expectVcdiffError(fn: () => unknown, code: VcdiffError["code"]): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(VcdiffError);
  expect((caught as VcdiffError).code).toBe(code);
}

/** Seeded text-like data: words drawn with a skewed distribution, so it compresses about 3:1. */
function textLike(size: number, seed: number): Uint8Array {
  const r = prng(seed);
  const words = Array.from({ length: 400 }, () =>
    Array.from({ length: 2 + Math.floor(r() * 9) }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join(""),
  );
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = `${words[Math.floor(r() * r() * words.length)]}${r() < 0.1 ? "\n" : " "}`;
    parts.push(w);
    n += w.length;
  }
  return new Uint8Array(Buffer.from(parts.join("").slice(0, size)));
}

function randomBytes(size: number, seed: number): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** Repeats a few random blocks at random offsets: long matches, far distances, runs. */
function repetitive(size: number, seed: number): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(size);
  const blocks = Array.from({ length: 8 }, (_, i) => randomBytes(1 + Math.floor(r() * 3000), seed + i + 1));
  for (let p = 0; p < size; ) {
    const x = r();
    if (x < 0.2) {
      const n = Math.min(size - p, 1 + Math.floor(r() * 500));
      out.fill(Math.floor(r() * 256), p, p + n);
      p += n;
    } else {
      const b = blocks[Math.floor(x * blocks.length)];
      const n = Math.min(size - p, b.length);
      out.set(b.subarray(0, n), p);
      p += n;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

interface ManifestCase {
  name: string;
  kind: string;
  files: { delta: string };
  headers?: { secondary?: string | null };
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8")) as { cases: ManifestCase[] };
const lzmaCases = manifest.cases.filter((c) => c.kind === "valid" && c.headers?.secondary === "lzma");

function loadDelta(name: string): ReturnType<typeof parseVcdiff> {
  const entry = manifest.cases.find((c) => c.name === name);
  if (!entry) throw new Error(`no fixture ${name}`);
  return parseVcdiff(new Uint8Array(readFileSync(join(FIXTURES, entry.files.delta))));
}

/** Decodes every section of a delta with one persistent decoder per kind; uncompressed sections pass through. */
function decodeSections(sections: Section[]): Map<Section, Uint8Array> {
  const decoders = new Map<Kind, XzSectionDecoder>(KINDS.map((k) => [k, new XzSectionDecoder()]));
  const out = new Map<Section, Uint8Array>();
  for (const s of sections) {
    out.set(s, s.compressed ? (decoders.get(s.kind) as XzSectionDecoder).decodeSection(s.slice, s.length) : s.raw);
  }
  return out;
}

function firstCompressed(name: string, kind: Kind, index = 0): Section {
  const found = loadDelta(name).sections.filter((s) => s.kind === kind && s.compressed)[index];
  if (!found) throw new Error(`no compressed ${kind} section #${index} in ${name}`);
  return found;
}

describe("XzSectionDecoder on real xdelta3 deltas", () => {
  it("the manifest lists the LZMA cases and each header says secondary id 2", () => {
    expect(lzmaCases.length).toBeGreaterThanOrEqual(15);
    for (const c of lzmaCases) expect(loadDelta(c.name).secondaryId, c.name).toBe(2);
  });

  /** The slices of one kind, concatenated: an unfinished XZ stream. */
  const streamsOf = (sections: Section[]): Map<Kind, Uint8Array> =>
    new Map(
      KINDS.map((k): [Kind, Uint8Array] => [
        k,
        concat(...sections.filter((s) => s.compressed && s.kind === k).map((s) => s.slice)),
      ]).filter(([, stream]) => stream.length > 0),
    );

  let reference: Map<string, Uint8Array> | undefined;
  /** What liblzma decodes from each case's three streams, from one python3 run. */
  function liblzmaReference(): Map<string, Uint8Array> {
    if (!reference) {
      const keys: string[] = [];
      const streams: Uint8Array[] = [];
      for (const c of lzmaCases) {
        for (const [kind, stream] of streamsOf(loadDelta(c.name).sections)) {
          keys.push(`${c.name}/${kind}`);
          streams.push(stream);
        }
      }
      const decoded = pythonDecompress(streams);
      reference = new Map(keys.map((key, i) => [key, decoded[i]]));
    }
    return reference;
  }

  it.each(lzmaCases.map((c) => c.name))(
    "%s: every compressed section decodes to its declared length and matches liblzma",
    (name) => {
      const { sections } = loadDelta(name);
      const decoded = decodeSections(sections);
      for (const s of sections) expect(decoded.get(s)?.length, `${name} window ${s.window} ${s.kind}`).toBe(s.length);
      for (const kind of streamsOf(sections).keys()) {
        const ours = concat(
          ...sections.filter((s) => s.compressed && s.kind === kind).map((s) => decoded.get(s) as Uint8Array),
        );
        const expected = liblzmaReference().get(`${name}/${kind}`) as Uint8Array;
        expect(Buffer.from(ours).equals(Buffer.from(expected)), `${name} ${kind}`).toBe(true);
      }
    },
  );

  it("text-edit (LZMA) and text-edit-nosec (-S none) carry byte-identical data, inst and addr sections", () => {
    const lzma = loadDelta("text-edit").sections;
    const plain = loadDelta("text-edit-nosec").sections;
    expect(lzma.every((s) => s.compressed)).toBe(true);
    expect(plain.some((s) => s.compressed)).toBe(false);
    const decoded = decodeSections(lzma);
    expect(lzma.map((s) => [s.window, s.kind])).toEqual(plain.map((s) => [s.window, s.kind]));
    lzma.forEach((s, i) => {
      expect(Buffer.from(decoded.get(s) as Uint8Array).equals(Buffer.from(plain[i].raw)), s.kind).toBe(true);
    });
  });

  it("multiwindow-small: state carries over sections, and later sections are not standalone", () => {
    const { sections } = loadDelta("multiwindow-small");
    const data = sections.filter((s) => s.kind === "data" && s.compressed);
    expect(data.length).toBeGreaterThan(5);
    // Later slices start with a chunk control byte, not an XZ header.
    for (const s of data.slice(1)) expect(s.slice[0]).not.toBe(0xfd);
    expect(() => decodeSections(sections)).not.toThrow();
    expectVcdiffError(() => new XzSectionDecoder().decodeSection(data[2].slice, data[2].length), "invalid_format");
  });

  it("no chunk spans two sections: each slice is a whole number of LZMA2 chunks", () => {
    for (const c of lzmaCases) {
      const seen = new Set<Kind>();
      for (const s of loadDelta(c.name).sections.filter((x) => x.compressed)) {
        const offset = seen.has(s.kind) ? 0 : xzHeaderSize(s.slice);
        seen.add(s.kind);
        const walk = walkChunks(s.slice, offset);
        expect(walk.end, `${c.name} window ${s.window} ${s.kind}`).toBe(s.slice.length);
        expect(walk.chunks.reduce((n, ch) => n + ch.unpacked, 0)).toBe(s.length);
      }
    }
  });

  it("corrupt-lzma-size-flip: a declared length one short is invalid_format", () => {
    const bad = firstCompressed("corrupt-lzma-size-flip", "data");
    expect(bad.length).toBe(firstCompressed("text-edit", "data").length - 1);
    expectVcdiffError(() => new XzSectionDecoder().decodeSection(bad.slice, bad.length), "invalid_format");
  });

  it("corrupt-lzma-byte-flip: the flipped data section fails or decodes to different bytes", () => {
    const good = firstCompressed("text-edit", "data");
    const bad = firstCompressed("corrupt-lzma-byte-flip", "data");
    let result: Uint8Array | undefined;
    try {
      result = new XzSectionDecoder().decodeSection(bad.slice, bad.length);
    } catch (error) {
      expect(error).toBeInstanceOf(VcdiffError);
      return;
    }
    const expected = new XzSectionDecoder().decodeSection(good.slice, good.length);
    expect(Buffer.from(result).equals(Buffer.from(expected))).toBe(false);
  });
});

describe("XzSectionDecoder against python3's liblzma", () => {
  const cases: { name: string; data: () => Uint8Array; opts: Record<string, number> }[] = [
    // (No "0 B" case: an empty stream has no block, and xdelta3 never writes a section of decompressed size 0.)
    { name: "1 B", data: () => Uint8Array.of(0x42), opts: { preset: 0 } },
    { name: "100 KiB text", data: () => textLike(100 * 1024, 1), opts: { preset: 0 } },
    { name: "100 KiB repetitive", data: () => repetitive(100 * 1024, 2), opts: { preset: 0 } },
    { name: "3 MiB text, 256 KiB dict (wraps)", data: () => textLike(3 * 1024 * 1024, 3), opts: { preset: 0 } },
    { name: "3 MiB repetitive, 8 MiB dict", data: () => repetitive(3 * 1024 * 1024, 4), opts: { preset: 6 } },
    { name: "1 MiB incompressible", data: () => randomBytes(1024 * 1024, 5), opts: { preset: 0 } },
    {
      name: "mixed, 4 KiB dict, lc=0 lp=2 pb=0",
      data: () => mixed(6),
      opts: { preset: 0, dict_size: 4096, lc: 0, lp: 2, pb: 0 },
    },
    { name: "mixed, lc=4 lp=0 pb=4", data: () => mixed(7), opts: { preset: 0, lc: 4, lp: 0, pb: 4 } },
    {
      name: "mixed, lc=1 lp=3 pb=1, CRC64 check",
      data: () => mixed(8),
      opts: { preset: 1, lc: 1, lp: 3, pb: 1, check: 4 },
    },
  ];

  function mixed(seed: number): Uint8Array {
    return concat(
      textLike(150_000, seed),
      randomBytes(70_000, seed),
      repetitive(200_000, seed),
      textLike(50_000, seed + 1),
    );
  }

  const memo = new Map<string, { input: Uint8Array; stream: Uint8Array }>();
  const compressed = (c: (typeof cases)[number]) => {
    let entry = memo.get(c.name);
    if (!entry) {
      const input = c.data();
      entry = { input, stream: pythonCompress(input, c.opts) };
      memo.set(c.name, entry);
    }
    return entry;
  };

  it.each(cases)("$name: one section, ending with the LZMA2 end byte", (c) => {
    const { input, stream } = compressed(c);
    const out = new XzSectionDecoder().decodeSection(stream, input.length);
    expect(out.length).toBe(input.length);
    expect(Buffer.from(out).equals(Buffer.from(input))).toBe(true);
  });

  it.each(cases)("$name: split into sections at random chunk boundaries", (c) => {
    const { input, stream } = compressed(c);
    const { chunks } = walkChunks(stream, xzHeaderSize(stream));
    const r = prng(c.name.length);
    const decoder = new XzSectionDecoder();
    const parts: Uint8Array[] = [];
    let start = 0; // the first section also carries the headers
    for (let c = 0; c < chunks.length; ) {
      const n = 1 + Math.floor(r() * 3);
      const group = chunks.slice(c, c + n);
      c += n;
      // The last section also carries the end byte (xdelta3 sections never have a decompressed size of 0).
      const end = c >= chunks.length ? stream.length : group[group.length - 1].end;
      parts.push(
        decoder.decodeSection(
          stream.subarray(start, end),
          group.reduce((s, ch) => s + ch.unpacked, 0),
        ),
      );
      start = end;
    }
    expect(Buffer.from(concat(...parts)).equals(Buffer.from(input))).toBe(true);
  });
});

describe("XzSectionDecoder on corrupt input", () => {
  const first = firstCompressed("text-edit", "data"); // stream + block header, then one 0xE0 LZMA chunk
  const header = first.slice.subarray(0, 24);
  const blockHeader = (fields: number[]): Uint8Array => {
    const size = Math.ceil((fields.length + 1 + 4) / 4) * 4;
    const bytes = [size / 4 - 1, ...fields];
    while (bytes.length < size - 4) bytes.push(0);
    return withCrc(bytes);
  };
  const withBlockHeader = (block: Uint8Array): Uint8Array =>
    concat(header.subarray(0, 12), block, first.slice.subarray(24));
  const decode = (input: Uint8Array, length = first.length, options?: { maxDictSize?: number }) =>
    new XzSectionDecoder(options).decodeSection(input, length);
  const mutate = (bytes: Uint8Array, at: number, value: number): Uint8Array => {
    const copy = bytes.slice();
    copy[at] = value;
    return copy;
  };

  it("the unmodified section decodes", () => {
    expect(decode(first.slice).length).toBe(first.length);
    expect([...header.subarray(12)]).toEqual([0x02, 0x00, 0x21, 0x01, 0x0c, 0, 0, 0, ...header.subarray(20)]);
  });

  it("rejects truncated headers", () => {
    for (const n of [0, 1, 5, 6, 11, 12, 13, 20, 23])
      expectVcdiffError(() => decode(first.slice.subarray(0, n)), "truncated");
  });

  it("rejects a bad magic", () => {
    expectVcdiffError(() => decode(mutate(first.slice, 1, 0x38)), "invalid_format");
    expectVcdiffError(() => decode(mutate(first.slice, 0, 0x80)), "invalid_format");
  });

  it("rejects bad CRC32s in the stream and block headers", () => {
    expectVcdiffError(() => decode(mutate(first.slice, 9, first.slice[9] ^ 1)), "checksum_mismatch");
    expectVcdiffError(() => decode(mutate(first.slice, 7, 0x01)), "checksum_mismatch");
    expectVcdiffError(() => decode(mutate(first.slice, 22, first.slice[22] ^ 0x40)), "checksum_mismatch");
    expectVcdiffError(() => decode(mutate(first.slice, 16, 0x0d)), "checksum_mismatch");
  });

  it("accepts any check type, rejects reserved stream flags", () => {
    for (const check of [1, 4, 10]) {
      const input = concat(Uint8Array.of(...header.subarray(0, 6)), withCrc([0, check]), first.slice.subarray(12));
      expect(decode(input).length).toBe(first.length);
    }
    const reserved = concat(Uint8Array.of(...header.subarray(0, 6)), withCrc([0, 0x10]), first.slice.subarray(12));
    expectVcdiffError(() => decode(reserved), "unsupported");
  });

  it("rejects filters other than a lone LZMA2", () => {
    expect(decode(withBlockHeader(blockHeader([0x00, 0x21, 0x01, 0x0c]))).length).toBe(first.length);
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x00, 0x03, 0x01, 0x00]))), "unsupported"); // delta
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x00, 0x01, 0x01, 0x0c]))), "unsupported"); // LZMA1
    // BCJ x86 then LZMA2
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x01, 0x04, 0x00, 0x21, 0x01, 0x0c]))), "unsupported");
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x04, 0x21, 0x01, 0x0c]))), "unsupported"); // reserved flag
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x00, 0x21, 0x02, 0x0c, 0x00]))), "invalid_format");
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x00, 0x21, 0x01, 41]))), "invalid_format");
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x00, 0x21, 0x01, 0x0c, 0x07]))), "invalid_format");
    expectVcdiffError(() => decode(concat(header.subarray(0, 12), Uint8Array.of(0))), "invalid_format"); // index
    // Optional size fields are allowed, and enforced (lzma2-edges: "block header sizes").
    expectVcdiffError(
      () => decode(withBlockHeader(blockHeader([0xc0, 0x80, 0x01, 0x05, 0x21, 0x01, 0x0c]))),
      "invalid_format",
    );
  });

  it("enforces maxDictSize", () => {
    expectVcdiffError(() => decode(first.slice, first.length, { maxDictSize: 128 * 1024 }), "limit_exceeded");
    expect(decode(first.slice, first.length, { maxDictSize: 256 * 1024 }).length).toBe(first.length);
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x00, 0x21, 0x01, 40]))), "limit_exceeded");
    expectVcdiffError(() => decode(withBlockHeader(blockHeader([0x00, 0x21, 0x01, 0x1d]))), "limit_exceeded"); // 96 MiB
  });

  it("rejects a chunk that runs past the input as truncated", () => {
    // Cut by one byte it still fills its output: liblzma reads the last byte only after the output is full, so
    // xdelta3 accepts it and the next section would have to start with that byte.
    expect(decode(first.slice.subarray(0, first.slice.length - 1)).length).toBe(first.length);
    expectVcdiffError(() => decode(first.slice.subarray(0, first.slice.length - 10)), "truncated");
    expectVcdiffError(() => decode(first.slice.subarray(0, 27)), "truncated"); // inside the chunk header
    expectVcdiffError(() => decode(first.slice.subarray(0, 40)), "truncated");
    const later = firstCompressed("multiwindow-small-nosource", "data", 3);
    const decoder = new XzSectionDecoder();
    const earlier = loadDelta("multiwindow-small-nosource")
      .sections.filter((s) => s.kind === "data")
      .slice(0, 3);
    for (const s of earlier) decoder.decodeSection(s.slice, s.length);
    expectVcdiffError(
      () => decoder.decodeSection(later.slice.subarray(0, later.slice.length - 3), later.length),
      "truncated",
    );
  });

  it("rejects an output length that does not match", () => {
    expectVcdiffError(() => decode(first.slice, first.length - 1), "invalid_format");
    expectVcdiffError(() => decode(first.slice, first.length + 1), "truncated");
    expectVcdiffError(() => decode(first.slice, -1), "invalid_format");
    expectVcdiffError(() => decode(first.slice, 2 ** 60), "invalid_format");
  });

  it("enforces LZMA2 control-byte and reset rules", () => {
    const chunk = first.slice.subarray(24); // E0 chunk: dict reset + props
    const raw = (control: number, bytes: number[]) => Uint8Array.of(control, 0, bytes.length - 1, ...bytes);
    expectVcdiffError(() => decode(concat(header, Uint8Array.of(0x03)), 0), "invalid_format");
    expectVcdiffError(() => decode(concat(header, Uint8Array.of(0x7f)), 0), "invalid_format");
    // The first chunk must reset the dictionary.
    expectVcdiffError(() => decode(concat(header, raw(0x02, [1, 2, 3])), 3), "invalid_format");
    for (const c of [0x80, 0xa0]) {
      const noProps = concat(Uint8Array.of(c), chunk.subarray(1, 5), chunk.subarray(6));
      expectVcdiffError(() => decode(concat(header, noProps)), "invalid_format");
    }
    expectVcdiffError(() => decode(concat(header, mutate(chunk, 0, 0xc0))), "invalid_format");
    // After an uncompressed dict reset, an LZMA chunk must bring properties.
    expect(decode(concat(header, raw(0x01, [1, 2, 3])), 3)).toEqual(Uint8Array.of(1, 2, 3));
    expectVcdiffError(
      () =>
        decode(
          concat(header, raw(0x01, [1]), mutate(chunk, 0, 0xa0).subarray(0, 5), chunk.subarray(6)),
          first.length + 1,
        ),
      "invalid_format",
    );
    // Bad properties bytes.
    for (const props of [225, 0xff, 4 + 9 * 1])
      expectVcdiffError(() => decode(concat(header, mutate(chunk, 5, props))), "invalid_format");
    // The range coder must start with 0x00.
    expectVcdiffError(() => decode(concat(header, mutate(chunk, 6, 1))), "invalid_format");
  });

  it("accepts the LZMA2 end byte and block padding, then no more output", () => {
    // After the end byte liblzma reads the block padding (zero bytes up to a multiple of 4) and would go on to an
    // index, which ends the stream: xdelta3 refuses that, and we do not decode it.
    const padding = (4 - ((first.slice.length - 24 + 1) % 4)) % 4;
    expect(decode(concat(first.slice, Uint8Array.of(0), new Uint8Array(padding))).length).toBe(first.length);
    expectVcdiffError(
      () => decode(concat(first.slice, Uint8Array.of(0), new Uint8Array(padding), Uint8Array.of(0))),
      "unsupported",
    );
    if (padding > 0) expectVcdiffError(() => decode(concat(first.slice, Uint8Array.of(0, 1))), "invalid_format");
    const decoder = new XzSectionDecoder();
    expect(decoder.decodeSection(concat(first.slice, Uint8Array.of(0)), first.length).length).toBe(first.length);
    expectVcdiffError(() => decoder.decodeSection(new Uint8Array(padding), 1), "truncated");
  });

  it("refuses further work after an error", () => {
    const decoder = new XzSectionDecoder();
    expectVcdiffError(() => decoder.decodeSection(first.slice, first.length + 1), "truncated");
    expectVcdiffError(() => decoder.decodeSection(first.slice, first.length), "truncated");
  });

  function fuzz(base: Uint8Array, length: number, seed: number, runs: number, prepare: () => XzSectionDecoder) {
    const r = prng(seed);
    const counts = { ok: 0, wrongBytes: 0, errors: {} as Record<string, number> };
    const expected = Buffer.from(prepare().decodeSection(base, length));
    let slowest = 0;
    for (let run = 0; run < runs; run++) {
      let input: Uint8Array = base.slice();
      const kind = r();
      if (kind < 0.7) {
        for (let n = 1 + Math.floor(r() * 3); n > 0; n--)
          input[Math.floor(r() * input.length)] ^= 1 + Math.floor(r() * 255);
      } else if (kind < 0.85) {
        input = input.subarray(0, Math.floor(r() * input.length));
      } else {
        const at = Math.floor(r() * input.length);
        input =
          r() < 0.5
            ? concat(input.subarray(0, at), input.subarray(at + 1))
            : concat(input.subarray(0, at), Uint8Array.of(Math.floor(r() * 256)), input.subarray(at));
      }
      const decoder = prepare();
      const t = performance.now();
      try {
        const out = decoder.decodeSection(input, length);
        expect(out.length).toBe(length);
        if (Buffer.from(out).equals(expected)) counts.ok++;
        else counts.wrongBytes++;
      } catch (error) {
        if (!(error instanceof VcdiffError)) throw error;
        expect(error.message).not.toMatch(/internal/);
        counts.errors[error.code] = (counts.errors[error.code] ?? 0) + 1;
      }
      slowest = Math.max(slowest, performance.now() - t);
    }
    expect(slowest).toBeLessThan(500);
    if (process.env.LZMA2_FUZZ_STATS) console.log(JSON.stringify(counts));
    return counts;
  }

  it("2,000 seeded mutations of a first section end in success or a VcdiffError, quickly", () => {
    const counts = fuzz(first.slice, first.length, 1234, 2000, () => new XzSectionDecoder());
    expect(Object.values(counts.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(1500);
    expect(Object.keys(counts.errors).sort()).toEqual(["checksum_mismatch", "invalid_format", "truncated"]);
  });

  it("1,000 seeded mutations of a later section (with carried-over state) end in success or a VcdiffError", () => {
    const sections = loadDelta("multiwindow-small-nosource").sections.filter((s) => s.kind === "data");
    const target = sections[3]; // an 0x80 LZMA chunk that relies on the earlier sections' dictionary and state
    expect(target.slice[0]).toBe(0x80);
    const prepare = () => {
      const decoder = new XzSectionDecoder();
      for (const s of sections.slice(0, 3)) decoder.decodeSection(s.slice, s.length);
      return decoder;
    };
    const counts = fuzz(target.slice, target.length, 99, 1000, prepare);
    expect(Object.values(counts.errors).reduce((a, b) => a + b, 0)).toBeGreaterThan(500);
  });
});

/**
 * Where sections cut the stream, xdelta3 3.0.11 stops where liblzma 5.4.1 stops: once the declared output is full,
 * after reading whatever needs no output space; the state carries into the next section, whose input must then be
 * used up. (fuzz-xdelta3.test.ts and lzma2-regressions.test.ts check the same against xdelta3 itself.)
 */
describe("XzSectionDecoder at section edges (liblzma's stop points)", () => {
  const first = firstCompressed("text-edit", "data"); // 24 header bytes, then one 0xE0 LZMA chunk (6-byte header)
  const CHUNK_DATA = 30;
  const full = new XzSectionDecoder().decodeSection(first.slice, first.length);
  const edge = (d: XzSectionDecoder) => (d as unknown as { edge: { owedMatch: number; owedLiteral: number } }).edge;

  /** Every first-section end k that a fresh decoder accepts with `m` bytes of output. */
  function acceptedCuts(m: number): number[] {
    const cuts: number[] = [];
    for (let k = CHUNK_DATA; k <= first.slice.length; k++) {
      try {
        new XzSectionDecoder().decodeSection(first.slice.subarray(0, k), m);
        cuts.push(k);
      } catch (error) {
        expect(error).toBeInstanceOf(VcdiffError);
      }
    }
    return cuts;
  }

  it("output full mid-chunk: the chunk goes on in the next section, from any cut inside the pending symbol", () => {
    const m = Math.floor(first.length / 2);
    const cuts = acceptedCuts(m);
    expect(cuts.length).toBeGreaterThan(0);
    // Contiguous: from the byte that completes output m to the end of the symbol decoded greedily after it.
    expect(cuts.at(-1) as number).toBe((cuts[0] as number) + cuts.length - 1);
    for (const k of [cuts[0] as number, cuts.at(-1) as number]) {
      const d = new XzSectionDecoder();
      const a = d.decodeSection(first.slice.subarray(0, k), m);
      const b = d.decodeSection(first.slice.subarray(k), first.length - m);
      expect(Buffer.from(concat(a, b)).equals(Buffer.from(full))).toBe(true);
    }
    // One byte more than the last cut is input liblzma does not read: xdelta3 refuses the unused input.
    expectVcdiffError(
      () => new XzSectionDecoder().decodeSection(first.slice.subarray(0, (cuts.at(-1) as number) + 1), m),
      "invalid_format",
    );
    // One byte less than the first cut cannot fill the output.
    expectVcdiffError(
      () => new XzSectionDecoder().decodeSection(first.slice.subarray(0, (cuts[0] as number) - 1), m),
      "truncated",
    );
  });

  it("a match straddling two sections: its remainder is written by the next section", () => {
    let found = 0;
    for (let m = 200; m < first.length - 50 && found < 3; m += 7) {
      const k = acceptedCuts(m).at(-1) as number;
      const d = new XzSectionDecoder();
      const a = d.decodeSection(first.slice.subarray(0, k), m);
      if (edge(d).owedMatch < 2) continue;
      found++;
      const b = d.decodeSection(first.slice.subarray(k), first.length - m);
      expect(Buffer.from(concat(a, b)).equals(Buffer.from(full))).toBe(true);
    }
    expect(found).toBe(3);
  });

  it("the next chunk's header and range coder init bytes are read at the end of a full section", () => {
    const data = loadDelta("multiwindow-small-nosource").sections.filter((s) => s.kind === "data");
    // A later section opening with an LZMA chunk that keeps the dictionary (0x80-0xDF): liblzma reads on past its
    // control byte (a dictionary reset would stop it there).
    const i = data.findIndex((s, n) => n > 0 && s.slice[0] >= 0x80 && s.slice[0] < 0xe0);
    expect(i).toBeGreaterThan(0);
    const withEarlier = (d: XzSectionDecoder) => {
      for (const s of data.slice(0, i - 1)) d.decodeSection(s.slice, s.length);
      return d;
    };
    const [prev, next] = [data[i - 1], data[i]];
    const plain = withEarlier(new XzSectionDecoder());
    plain.decodeSection(prev.slice, prev.length);
    const expected = Buffer.from(plain.decodeSection(next.slice, next.length));
    const headerSize = next.slice[0] >= 0xc0 ? 6 : 5;
    // Moving 1 byte, the header, the header and the range coder's first byte, or all 5 init bytes to the end of
    // the previous section.
    for (const j of [1, headerSize, headerSize + 1, headerSize + 5]) {
      const d = withEarlier(new XzSectionDecoder());
      expect(d.decodeSection(concat(prev.slice, next.slice.subarray(0, j)), prev.length).length).toBe(prev.length);
      // After the init bytes liblzma goes on to decode the first symbol, and keeps it (the output is full).
      if (j === headerSize + 5) expect(edge(d).owedLiteral >= 0 || edge(d).owedMatch > 0).toBe(true);
      expect(Buffer.from(d.decodeSection(next.slice.subarray(j), next.length)).equals(expected)).toBe(true);
    }
    // Here that first symbol needs no byte beyond the init bytes, so one more byte is left unused.
    expectVcdiffError(
      () =>
        withEarlier(new XzSectionDecoder()).decodeSection(
          concat(prev.slice, next.slice.subarray(0, headerSize + 6)),
          prev.length,
        ),
      "invalid_format",
    );
    // A bad first range coder byte is refused even though the output was already full.
    const bad = concat(prev.slice, next.slice.subarray(0, headerSize), Uint8Array.of(0x01));
    expectVcdiffError(() => withEarlier(new XzSectionDecoder()).decodeSection(bad, prev.length), "invalid_format");
  });

  it("a dictionary reset stops liblzma right after the control byte; more input is left over and refused", () => {
    expect(new XzSectionDecoder().decodeSection(concat(first.slice, Uint8Array.of(0xe0)), first.length).length).toBe(
      first.length,
    );
    expectVcdiffError(
      () => new XzSectionDecoder().decodeSection(concat(first.slice, Uint8Array.of(0xe0, 0x00)), first.length),
      "invalid_format",
    );
    expectVcdiffError(
      () => new XzSectionDecoder().decodeSection(concat(first.slice, Uint8Array.of(0x03)), first.length),
      "invalid_format",
    );
  });

  it("the end byte 0x00: read after a full output, then padding; the stream gives no more output", () => {
    const padding = (4 - ((first.slice.length - 24 + 1) % 4)) % 4;
    const d = new XzSectionDecoder();
    expect(d.decodeSection(concat(first.slice, Uint8Array.of(0)), first.length).length).toBe(first.length);
    expectVcdiffError(() => d.decodeSection(new Uint8Array(padding), 1), "truncated");
    expectVcdiffError(
      () => new XzSectionDecoder().decodeSection(concat(first.slice, Uint8Array.of(0)), first.length + 1),
      "truncated",
    );
  });

  it("block header sizes are enforced as liblzma's block decoder does", () => {
    const header = first.slice.subarray(0, 12);
    const chunk = first.slice.subarray(24);
    const vli = (n: number): number[] => {
      const out: number[] = [];
      while (n >= 0x80) {
        out.push((n & 0x7f) | 0x80);
        n = Math.floor(n / 128);
      }
      return [...out, n];
    };
    const withSizes = (flags: number, sizes: number[], tail: Uint8Array) => {
      const fields = [flags, ...sizes.flatMap(vli), 0x21, 0x01, first.slice[16]];
      const size = Math.ceil((fields.length + 1 + 4) / 4) * 4;
      const bytes = [size / 4 - 1, ...fields];
      while (bytes.length < size - 4) bytes.push(0);
      return concat(header, withCrc(bytes), tail);
    };
    const decode = (input: Uint8Array) => new XzSectionDecoder().decodeSection(input, first.length);
    // Both sizes reached without the end byte: liblzma calls the block broken.
    expectVcdiffError(() => decode(withSizes(0xc0, [chunk.length, first.length], chunk)), "invalid_format");
    // With the end byte (and its padding) the block ends where its header says.
    const padding = new Uint8Array((4 - ((chunk.length + 1) % 4)) % 4);
    expect(
      decode(withSizes(0xc0, [chunk.length + 1, first.length], concat(chunk, Uint8Array.of(0), padding))).length,
    ).toBe(first.length);
    // Room to spare in either size is fine; too little is not.
    expect(decode(withSizes(0x80, [first.length + 100], chunk)).length).toBe(first.length);
    expect(decode(withSizes(0x40, [chunk.length + 100], chunk)).length).toBe(first.length);
    expectVcdiffError(() => decode(withSizes(0x80, [first.length - 1], chunk)), "invalid_format");
    expectVcdiffError(() => decode(withSizes(0x40, [chunk.length - 10], chunk)), "invalid_format");
    expectVcdiffError(() => decode(withSizes(0x40, [0], chunk)), "invalid_format");
  });

  it("a range coder whose first byte is not 0x00 is refused", () => {
    const bad = first.slice.slice();
    bad[CHUNK_DATA] = 0x01;
    expectVcdiffError(() => new XzSectionDecoder().decodeSection(bad, first.length), "invalid_format");
  });
});
