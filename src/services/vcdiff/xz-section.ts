/**
 * Writer side of xdelta3's LZMA secondary compression (VCDIFF secondary id 2; the reader is lzma2.ts).
 *
 * xdelta3 keeps one XZ stream per section kind (data, inst, addr) for the whole delta and cuts it into per-window
 * slices: the first compressed slice of a kind starts with the stream header and the block header, every slice ends
 * on an LZMA2 chunk boundary, and the stream is never finished. A compressed section is the varint of its
 * decompressed size followed by its slice. Each of our slices resets the dictionary, so memory stays bounded by one
 * window's sections.
 */
import { crc32 } from "node:zlib";
import { DICT_SIZE_BYTE, Lzma2Encoder } from "./lzma-encoder.js";
import { varintLength, writeVarint } from "./varint.js";

/** VCDIFF secondary compressor id of LZMA (xdelta3's VCD_LZMA_ID). */
export const LZMA_SECONDARY_ID = 2;

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FILTER_LZMA2 = 0x21;

function littleEndian32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

/** Stream header (no integrity check: xdelta3 uses LZMA_CHECK_NONE) and a block header with one LZMA2 filter. */
function xzHeaders(): Uint8Array {
  const flags = [0x00, 0x00];
  const stream = [...XZ_MAGIC, ...flags, ...littleEndian32(crc32(Uint8Array.from(flags)))];
  // Header size byte ((8 + 4) / 4 - 1), block flags (one filter, no sizes), filter id, props size, dict size, padding.
  const block = [0x02, 0x00, FILTER_LZMA2, 0x01, DICT_SIZE_BYTE, 0x00, 0x00, 0x00];
  return Uint8Array.from([...stream, ...block, ...littleEndian32(crc32(Uint8Array.from(block)))]);
}

/** One per delta: the three section kinds' stream state across windows. */
export class XzSectionWriter {
  private readonly started = [false, false, false];
  private readonly lzma = new Lzma2Encoder();

  /** Bytes of LZMA2 chunks that `bytes` would take (a trial: nothing is written). */
  packedSize(bytes: Uint8Array): number {
    return this.lzma.encode(bytes, () => {});
  }

  /**
   * The compressed form of `bytes` as section `kind` (0 data, 1 inst, 2 addr), or null when it would not be at least
   * `minSaving` bytes smaller. Only a returned slice counts as written: the stream headers go into the first one.
   */
  compress(kind: 0 | 1 | 2, bytes: Uint8Array, minSaving: number): Uint8Array | null {
    if (bytes.length === 0) return null; // xdelta3 -d refuses a compressed section of size 0
    const parts: Uint8Array[] = [];
    const headers = this.started[kind] ? null : xzHeaders();
    let total = varintLength(bytes.length) + (headers ? headers.length : 0);
    if (total + 8 > bytes.length - minSaving) return null;
    total += this.lzma.encode(bytes, (chunk) => parts.push(chunk));
    if (total > bytes.length - minSaving) return null;
    const out = new Uint8Array(total);
    let p = writeVarint(out, 0, bytes.length);
    if (headers) {
      out.set(headers, p);
      p += headers.length;
    }
    for (const part of parts) {
      out.set(part, p);
      p += part.length;
    }
    this.started[kind] = true;
    return out;
  }
}
