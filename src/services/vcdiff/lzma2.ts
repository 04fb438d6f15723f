import { VcdiffError } from "./errors.js";
import { LzmaDecoder } from "./lzma-decoder.js";
import { LzmaEdgeDecoder } from "./lzma-edge.js";
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

interface XzHeaders {
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
const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

/** Validates the stream header and the block header (both must be whole in the first section: see decode()). */
function parseXzHeaders(input: Uint8Array): XzHeaders {
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

let warmedUp = false;

/** Decodes the warm-up stream once per process, before the first real section (lzma-warm-up.ts says why). */
function warmUp(): void {
  if (warmedUp) return;
  warmedUp = true;
  const stream = Buffer.from(WARM_UP_XZ, "base64");
  new XzSectionDecoder().decodeSection(new Uint8Array(stream.buffer, stream.byteOffset, stream.length), WARM_UP_LENGTH);
}

/** Where the LZMA2 reader is between bytes (liblzma's lzma2_decoder.c has the same steps). */
enum Seq {
  Control,
  Unpacked1,
  Unpacked2,
  Packed1,
  Packed2,
  Props,
  Lzma,
  Copy,
  /** After the end byte 0x00: block padding, then the check field. */
  Padding,
  Check,
  /** The block is over: an index or another block would follow, which we do not decode. */
  BlockDone,
}

/** One persistent decoder per section kind per delta file. */
export class XzSectionDecoder {
  private readonly maxDictSize: number;
  private lzma: LzmaDecoder | null = null;
  private readonly edge = new LzmaEdgeDecoder();
  private seq = Seq.Control;
  /** Step after the chunk's packed size: Props, Lzma or Copy. */
  private afterSizes = Seq.Lzma;
  private needDictReset = true;
  private needProps = true;
  private unpacked = 0;
  /** Input bytes of the current chunk not consumed yet. */
  private packedLeft = 0;
  private check = 0;
  private checkLeft = 0;
  /** Block header sizes (Infinity when absent) and what the block has consumed and produced so far. */
  private compressedLimit = Infinity;
  private uncompressedLimit = Infinity;
  private compressedUsed = 0;
  private uncompressedUsed = 0;
  /** After any error the state is half-updated, so the decoder refuses further work. */
  private failure: VcdiffError | null = null;

  constructor(options?: { maxDictSize?: number /* default 64 MiB; larger declared dict -> limit_exceeded */ }) {
    this.maxDictSize = options?.maxDictSize ?? DEFAULT_MAX_DICT_SIZE;
  }

  /**
   * Decode the compressed slice of one section into exactly `outLength` bytes, as xdelta3 3.0.11 with liblzma 5.4.1
   * would: the stream runs on from the previous section, decoding stops once `outLength` bytes are out (after
   * reading whatever needs no output space, as liblzma does), and the slice must then be used up.
   * First call: input must start with the XZ stream header + block header.
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
    if (!Number.isSafeInteger(outLength) || outLength <= 0) throw invalid(`bad section length ${outLength}`);
    // One array class in the hot loop: a Buffer (a subclass, with its own map) would send decodeChunk back to the
    // interpreter the first time it sees one.
    const input =
      section.constructor === Uint8Array ? section : new Uint8Array(section.buffer, section.byteOffset, section.length);
    let p = 0;
    if (this.lzma === null) {
      // The headers produce no output, so a first section that cuts them short can never fill its output: xdelta3
      // refuses it too, and parsing them whole here loses nothing.
      warmUp();
      const header = parseXzHeaders(input);
      if (header.dictSize > this.maxDictSize) {
        throw new VcdiffError(
          "limit_exceeded",
          `XZ: dictionary of ${header.dictSize} bytes exceeds ${this.maxDictSize}`,
        );
      }
      this.lzma = new LzmaDecoder(header.dictSize);
      this.check = header.check;
      this.compressedLimit = header.compressedSize;
      this.uncompressedLimit = header.uncompressedSize;
      p = header.next;
    }
    let out: Uint8Array;
    try {
      out = new Uint8Array(outLength);
    } catch {
      throw new VcdiffError("limit_exceeded", `cannot allocate ${outLength} bytes`);
    }
    const lzma = this.lzma;
    lzma.setOutput(out);
    let produced: number;
    try {
      p = this.runBlock(lzma, input, p, outLength);
      if (this.seq >= Seq.Padding) p = this.finishBlock(input, p);
      produced = lzma.outputPosition;
    } finally {
      lzma.setOutput(new Uint8Array(0));
    }
    // xd3_decode_lzma loops until the output is full (no progress means LZMA_BUF_ERROR), then
    // xd3_decode_secondary refuses unused input.
    if (produced !== outLength) {
      throw new VcdiffError("truncated", `XZ: section ends after ${produced} of its ${outLength} bytes`);
    }
    if (p !== input.length) throw invalid(`section has ${input.length - p} bytes of unused input`);
    return out;
  }

  /**
   * The block decoder's view (block_decoder.c): the LZMA2 reader sees no more input than the block header's
   * compressed size allows, and makes no more output than its uncompressed size allows; then the sizes are checked.
   */
  private runBlock(lzma: LzmaDecoder, input: Uint8Array, start: number, outLength: number): number {
    if (this.seq >= Seq.Padding) return start;
    const outStart = lzma.outputPosition;
    const inEnd = Math.min(input.length, start + (this.compressedLimit - this.compressedUsed));
    const outEnd = Math.min(outLength, outStart + (this.uncompressedLimit - this.uncompressedUsed));
    const p = this.runLzma2(lzma, input, start, inEnd, outEnd);
    this.compressedUsed += p - start;
    this.uncompressedUsed += lzma.outputPosition - outStart;
    if (this.seq === Seq.Padding) {
      if (
        (this.compressedLimit !== Infinity && this.compressedUsed !== this.compressedLimit) ||
        (this.uncompressedLimit !== Infinity && this.uncompressedUsed !== this.uncompressedLimit)
      ) {
        throw invalid("block sizes do not match its header");
      }
      return p;
    }
    const compressedDone = this.compressedUsed === this.compressedLimit;
    const uncompressedDone = this.uncompressedUsed === this.uncompressedLimit;
    if (compressedDone && uncompressedDone) throw invalid("block not finished at the sizes in its header");
    if (compressedDone && lzma.outputPosition < outLength) throw invalid("block data runs past its compressed size");
    if (uncompressedDone && p < input.length) throw invalid("block data runs past its uncompressed size");
    return p;
  }

  /**
   * The LZMA2 reader over input[p, inEnd), producing output up to outEnd. Like liblzma it consumes input one step at
   * a time and only stops when the input is exhausted, or when the output is full and the current step needs room:
   * a chunk's header and range coder init bytes need none, nor does decoding the symbol that will not fit.
   */
  private runLzma2(lzma: LzmaDecoder, input: Uint8Array, start: number, inEnd: number, outEnd: number): number {
    let p = start;
    for (;;) {
      switch (this.seq) {
        case Seq.Control: {
          if (p === inEnd) return p;
          const control = input[p++];
          if (control === 0x00) {
            this.seq = Seq.Padding;
            return p;
          }
          const dictReset = control === 0x01 || control >= 0xe0;
          if (dictReset) {
            this.needProps = true;
          } else if (this.needDictReset) {
            throw invalid("first LZMA2 chunk does not reset the dictionary");
          }
          if (control >= 0x80) {
            this.unpacked = (control & 0x1f) << 16;
            this.seq = Seq.Unpacked1;
            if (control >= 0xc0) {
              this.needProps = false;
              this.afterSizes = Seq.Props;
            } else if (this.needProps) {
              throw invalid("LZMA2 chunk without the properties it needs");
            } else {
              this.afterSizes = Seq.Lzma;
              if (control >= 0xa0) lzma.resetState();
            }
          } else {
            if (control > 0x02) throw invalid(`bad LZMA2 control byte 0x${control.toString(16)}`);
            this.seq = Seq.Packed1;
            this.afterSizes = Seq.Copy;
          }
          if (dictReset) {
            this.needDictReset = false;
            lzma.resetDict();
            // liblzma returns to let the dictionary reset; with the output full it stops here.
            if (lzma.outputPosition === outEnd) return p;
          }
          break;
        }
        case Seq.Unpacked1:
          if (p === inEnd) return p;
          this.unpacked += input[p++] << 8;
          this.seq = Seq.Unpacked2;
          break;
        case Seq.Unpacked2:
          if (p === inEnd) return p;
          this.unpacked += input[p++] + 1;
          this.edge.startChunk(this.unpacked);
          this.seq = Seq.Packed1;
          break;
        case Seq.Packed1:
          if (p === inEnd) return p;
          this.packedLeft = input[p++] << 8;
          this.seq = Seq.Packed2;
          break;
        case Seq.Packed2:
          if (p === inEnd) return p;
          this.packedLeft += input[p++] + 1;
          this.seq = this.afterSizes;
          break;
        case Seq.Props:
          if (p === inEnd) return p;
          lzma.setProps(input[p++]);
          lzma.resetState();
          this.seq = Seq.Lzma;
          break;
        case Seq.Lzma: {
          const room = outEnd - lzma.outputPosition;
          if (this.edge.idle && p + this.packedLeft <= inEnd && this.unpacked <= room) {
            // Fast path: the whole chunk is here and fits. Its result is liblzma's: a chunk whose decoding reads
            // past its packed size fails either way, except when that read would be past the end of the input
            // with the output full (the usual last chunk of a section): liblzma then just waits for the next
            // section. So there, a failure is decoded again, exactly, by the resumable path.
            const atEdge = p + this.packedLeft === inEnd && this.unpacked === room;
            const restore = atEdge ? lzma.snapshot(this.unpacked) : null;
            try {
              lzma.decodeChunk(input, p, this.packedLeft, this.unpacked);
              p += this.packedLeft;
              this.seq = Seq.Control;
              break;
            } catch (error) {
              if (!restore) throw error;
              restore();
            }
          }
          const step = this.edge.run(lzma, input, p, inEnd, room);
          // LZMA2 hands the LZMA decoder all the input, then checks it did not take more than the chunk holds.
          if (step.p - p > this.packedLeft) throw invalid("LZMA chunk reads past its compressed size");
          this.packedLeft -= step.p - p;
          p = step.p;
          if (step.result !== "chunk_done") return p;
          if (this.packedLeft !== 0) throw invalid("LZMA chunk ends before its compressed size");
          this.seq = Seq.Control;
          break;
        }
        case Seq.Copy: {
          const n = Math.min(this.packedLeft, inEnd - p, outEnd - lzma.outputPosition);
          if (n > 0) lzma.copyUncompressed(input, p, n);
          p += n;
          this.packedLeft -= n;
          if (this.packedLeft !== 0) return p;
          this.seq = Seq.Control;
          break;
        }
        default:
          return p;
      }
    }
  }

  /** After the LZMA2 end byte: zero padding to a multiple of 4, then the block's check field. */
  private finishBlock(input: Uint8Array, start: number): number {
    let p = start;
    if (this.seq === Seq.Padding) {
      while (this.compressedUsed % 4 !== 0) {
        if (p === input.length) return p;
        this.compressedUsed++;
        if (input[p++] !== 0) throw invalid("non-zero block padding");
      }
      this.seq = Seq.Check;
      this.checkLeft = CHECK_SIZES[this.check];
    }
    if (this.seq === Seq.Check) {
      if (this.checkLeft > 0 && p < input.length && (this.check === 1 || this.check === 4 || this.check === 10)) {
        // liblzma would verify a CRC32, CRC64 or SHA-256 of the block here; xdelta3 writes no check at all.
        throw new VcdiffError("unsupported", "XZ: a block check after the end of the block is not verified");
      }
      const n = Math.min(this.checkLeft, input.length - p);
      p += n;
      this.checkLeft -= n;
      if (this.checkLeft > 0) return p;
      this.seq = Seq.BlockDone;
    }
    if (p < input.length) {
      // liblzma would go on to an index (and finish the stream, which xdelta3 refuses) or to another block.
      throw new VcdiffError("unsupported", "XZ: data after the end of the block");
    }
    return p;
  }
}
