import { VcdiffError } from "./errors.js";

/** Parsing of the XZ stream header and block header that open the first LZMA slice of a kind (lzma2.ts). */

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const STREAM_HEADER_SIZE = 12;
const FILTER_LZMA2 = 0x21;

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

export interface XzHeaders {
  dictSize: number;
  /** Where the LZMA2 chunks begin. */
  next: number;
  /** Stream flags' check type (0 none, 1 CRC32, 4 CRC64, 10 SHA-256, others reserved). */
  check: number;
  /** Block header's compressed and uncompressed sizes; Infinity when absent. */
  compressedSize: number;
  uncompressedSize: number;
}

/** Bytes of the check field for each check type (xz format 2.1.1.2, reserved types included). */
export const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

/** Validates the stream header and the block header (both must be whole in the first section: see decode()). */
export function parseXzHeaders(input: Uint8Array): XzHeaders {
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
  let compressedSize = Infinity;
  let uncompressedSize = Infinity;
  // liblzma enforces both sizes while decoding (block_decoder.c), so we do too.
  if (flags & 0x40) {
    const field = readXzInteger(input, p, end);
    // A size of 0, or one that makes the block's unpadded size exceed 2^63 - 4, is refused by liblzma.
    if (field.value === 0 || field.value + size + CHECK_SIZES[input[7] & 0x0f] > 2 ** 63 - 4) {
      throw invalid("bad compressed size in block header");
    }
    compressedSize = field.value;
    p = field.next;
  }
  if (flags & 0x80) {
    const field = readXzInteger(input, p, end);
    uncompressedSize = field.value;
    p = field.next;
  }
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
  return { dictSize, next: start + size, check: input[7] & 0x0f, compressedSize, uncompressedSize };
}
