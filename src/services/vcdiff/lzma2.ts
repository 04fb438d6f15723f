import { VcdiffError } from "./errors.js";
import { LzmaDecoder } from "./lzma-decoder.js";
import { WARM_UP_LENGTH, WARM_UP_XZ } from "./lzma-warm-up.js";

/**
 * Decoder for xdelta3's LZMA secondary compression (VCDIFF secondary id 2).
 *
 * Each section kind (data, inst, addr) of a delta is one XZ stream cut into per-window slices. The first slice holds
 * the stream header and block header; every slice ends with a sync flush, so it holds whole LZMA2 chunks; the stream
 * is never finished (no end byte, block check, index or footer). The dictionary and LZMA state carry over between
 * slices, hence one persistent decoder per kind.
 *
 * The LZMA2 end byte (0x00) is accepted only as the last byte of a slice; after it the stream is over and any further
 * input is `invalid_format`. xdelta3 never writes it, but a finished stream decodes up to its end marker.
 */

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const STREAM_HEADER_SIZE = 12;
const FILTER_LZMA2 = 0x21;
const DEFAULT_MAX_DICT_SIZE = 64 * 1024 * 1024;

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function readUint32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

function invalid(message: string): VcdiffError {
  return new VcdiffError("invalid_format", `XZ: ${message}`);
}

/** XZ multibyte integer (little-endian base-128, at most 9 bytes, no redundant trailing zero byte). */
function readXzInteger(bytes: Uint8Array, offset: number, end: number): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 9 && offset + i < end; i++) {
    const byte = bytes[offset + i];
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) throw invalid("non-minimal integer in block header");
      return { value, next: offset + i + 1 };
    }
  }
  throw invalid("bad integer in block header");
}

/** Validates the stream header and the block header; returns the LZMA2 dictionary size and where chunks begin. */
function parseXzHeaders(input: Uint8Array): { dictSize: number; next: number } {
  for (let i = 0; i < XZ_MAGIC.length; i++) {
    if (i >= input.length) throw new VcdiffError("truncated", "XZ: stream header cut short");
    if (input[i] !== XZ_MAGIC[i]) throw invalid("bad stream header magic");
  }
  if (input.length < STREAM_HEADER_SIZE + 1) throw new VcdiffError("truncated", "XZ: stream header cut short");
  if (crc32(input.subarray(6, 8)) !== readUint32LE(input, 8)) {
    throw new VcdiffError("checksum_mismatch", "XZ: stream header CRC32 mismatch");
  }
  // Byte 6 and the high nibble of byte 7 are reserved; the low nibble is the check type, which never appears here.
  if (input[6] !== 0 || (input[7] & 0xf0) !== 0) throw new VcdiffError("unsupported", "XZ: unknown stream flags");

  const start = STREAM_HEADER_SIZE;
  if (input[start] === 0) throw invalid("stream has no block");
  const size = (input[start] + 1) * 4;
  const end = start + size - 4; // the CRC32 follows
  if (input.length < start + size) throw new VcdiffError("truncated", "XZ: block header cut short");
  if (crc32(input.subarray(start, end)) !== readUint32LE(input, end)) {
    throw new VcdiffError("checksum_mismatch", "XZ: block header CRC32 mismatch");
  }
  const flags = input[start + 1];
  if ((flags & 0x3c) !== 0) throw new VcdiffError("unsupported", "XZ: unknown block flags");
  const filterCount = (flags & 3) + 1;
  let p = start + 2;
  if (flags & 0x40) p = readXzInteger(input, p, end).next; // compressed size: irrelevant, the block never ends
  if (flags & 0x80) p = readXzInteger(input, p, end).next; // uncompressed size: likewise
  const filter = readXzInteger(input, p, end);
  const propsSize = readXzInteger(input, filter.next, end);
  if (filterCount !== 1 || filter.value !== FILTER_LZMA2) {
    throw new VcdiffError("unsupported", `XZ: only a lone LZMA2 filter is supported (got ${filterCount} filter(s))`);
  }
  if (propsSize.value !== 1 || propsSize.next >= end) throw invalid("bad LZMA2 filter properties");
  const dictByte = input[propsSize.next];
  for (let i = propsSize.next + 1; i < end; i++) if (input[i] !== 0) throw invalid("non-zero block header padding");
  if (dictByte > 40) throw invalid("bad LZMA2 dictionary size");
  const dictSize = dictByte === 40 ? 0xffffffff : (2 | (dictByte & 1)) * 2 ** ((dictByte >>> 1) + 11);
  return { dictSize, next: start + size };
}

/**
 * Walks the LZMA2 chunk headers from `offset` without decoding and returns the total uncompressed size.
 * This checks the framing (and the output size) before anything is allocated or decoded.
 */
function scanChunks(input: Uint8Array, offset: number): number {
  let total = 0;
  let p = offset;
  while (p < input.length) {
    const control = input[p];
    if (control === 0x00) {
      if (p !== input.length - 1) throw invalid("data after the LZMA2 end marker");
      return total;
    }
    let headerSize: number;
    let unpacked: number;
    let packed: number;
    if (control >= 0x80) {
      headerSize = control >= 0xc0 ? 6 : 5;
      if (p + headerSize > input.length) throw new VcdiffError("truncated", "LZMA2: chunk header cut short");
      unpacked = (control & 0x1f) * 0x10000 + (input[p + 1] << 8) + input[p + 2] + 1;
      packed = (input[p + 3] << 8) + input[p + 4] + 1;
    } else if (control <= 0x02) {
      headerSize = 3;
      if (p + headerSize > input.length) throw new VcdiffError("truncated", "LZMA2: chunk header cut short");
      unpacked = (input[p + 1] << 8) + input[p + 2] + 1;
      packed = unpacked;
    } else {
      throw invalid(`bad LZMA2 control byte 0x${control.toString(16)}`);
    }
    p += headerSize + packed;
    if (p > input.length) throw new VcdiffError("truncated", "LZMA2: chunk runs past the end of the section");
    total += unpacked;
  }
  return total;
}

let warmedUp = false;

/** Decodes the warm-up stream once per process, before the first real section (lzma-warm-up.ts says why). */
function warmUp(): void {
  if (warmedUp) return;
  warmedUp = true;
  const stream = Buffer.from(WARM_UP_XZ, "base64");
  new XzSectionDecoder().decodeSection(new Uint8Array(stream.buffer, stream.byteOffset, stream.length), WARM_UP_LENGTH);
}

/** One persistent decoder per section kind per delta file. */
export class XzSectionDecoder {
  private readonly maxDictSize: number;
  private lzma: LzmaDecoder | null = null;
  private needDictReset = true;
  private needProps = true;
  private ended = false;
  /** After any error the state is half-updated, so the decoder refuses further work. */
  private failure: VcdiffError | null = null;

  constructor(options?: { maxDictSize?: number /* default 64 MiB; larger declared dict -> limit_exceeded */ }) {
    this.maxDictSize = options?.maxDictSize ?? DEFAULT_MAX_DICT_SIZE;
  }

  /**
   * Decode the compressed slice of one section into exactly `outLength` bytes.
   * First call: input must start with the XZ stream header + block header. Later calls: input starts with an LZMA2
   * chunk control byte. The whole input must be consumed and exactly outLength bytes produced.
   */
  decodeSection(input: Uint8Array, outLength: number): Uint8Array {
    if (this.failure) throw new VcdiffError(this.failure.code, `decoder failed earlier (${this.failure.message})`);
    try {
      return this.decode(input, outLength);
    } catch (error) {
      this.failure =
        error instanceof VcdiffError
          ? error
          : new VcdiffError("invalid_format", `internal LZMA decoder error: ${(error as Error)?.message ?? error}`);
      throw this.failure;
    }
  }

  private decode(section: Uint8Array, outLength: number): Uint8Array {
    if (!Number.isSafeInteger(outLength) || outLength < 0) throw invalid(`bad section length ${outLength}`);
    // One array class in the hot loop: a Buffer (a subclass, with its own map) would send decodeChunk back to the
    // interpreter the first time it sees one.
    const input =
      section.constructor === Uint8Array ? section : new Uint8Array(section.buffer, section.byteOffset, section.length);
    let p = 0;
    if (this.lzma === null) {
      warmUp();
      const header = parseXzHeaders(input);
      if (header.dictSize > this.maxDictSize) {
        throw new VcdiffError(
          "limit_exceeded",
          `XZ: dictionary of ${header.dictSize} bytes exceeds ${this.maxDictSize}`,
        );
      }
      this.lzma = new LzmaDecoder(header.dictSize);
      p = header.next;
    }
    if (this.ended && p < input.length) throw invalid("data after the LZMA2 end marker");
    const total = scanChunks(input, p);
    if (total !== outLength) throw invalid(`section holds ${total} bytes, expected ${outLength}`);

    let out: Uint8Array;
    try {
      out = new Uint8Array(outLength);
    } catch {
      throw new VcdiffError("limit_exceeded", `cannot allocate ${outLength} bytes`);
    }
    const lzma = this.lzma;
    lzma.setOutput(out);
    // scanChunks has checked every size below against the input.
    while (p < input.length) {
      const control = input[p];
      if (control === 0x00) {
        this.ended = true;
        p++;
        break;
      }
      if (control === 0x01 || control >= 0xe0) {
        lzma.resetDict();
        this.needDictReset = false;
        this.needProps = true;
      } else if (this.needDictReset) {
        throw invalid("first LZMA2 chunk does not reset the dictionary");
      }
      if (control < 0x80) {
        const size = (input[p + 1] << 8) + input[p + 2] + 1;
        lzma.copyUncompressed(input, p + 3, size);
        p += 3 + size;
        continue;
      }
      const unpacked = (control & 0x1f) * 0x10000 + (input[p + 1] << 8) + input[p + 2] + 1;
      const packed = (input[p + 3] << 8) + input[p + 4] + 1;
      p += 5;
      if (control >= 0xc0) {
        lzma.setProps(input[p++]);
        this.needProps = false;
        lzma.resetState();
      } else if (this.needProps) {
        throw invalid("LZMA2 chunk without the properties it needs");
      } else if (control >= 0xa0) {
        lzma.resetState();
      }
      lzma.decodeChunk(input, p, packed, unpacked);
      p += packed;
    }
    if (lzma.outputPosition !== outLength) throw invalid("section decoded to the wrong length");
    lzma.setOutput(new Uint8Array(0));
    return out;
  }
}
