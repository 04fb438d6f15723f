import { VcdiffError } from "./errors.js";
import { LzmaDecoder } from "./lzma-decoder.js";
import { LzmaEdgeDecoder } from "./lzma-edge.js";
import { WARM_UP_LENGTH, WARM_UP_XZ } from "./lzma-warm-up.js";
import { CHECK_SIZES, parseXzHeaders } from "./xz-headers.js";

/**
 * Decoder for xdelta3's LZMA secondary compression (VCDIFF secondary id 2).
 *
 * Each section kind (data, inst, addr) of a delta is one XZ stream cut into per-window slices. The first slice holds
 * the stream header and block header; xdelta3 ends every slice it writes with a sync flush, so it holds whole LZMA2
 * chunks, and never finishes the stream. The dictionary and LZMA state carry over between slices, hence one persistent
 * decoder per kind.
 *
 * What a slice may hold is what xdelta3 3.0.11 accepts, and that is set by how it drives liblzma 5.4.1
 * (xd3_decode_lzma, xd3_decode_secondary): one lzma_code(LZMA_RUN) stream per kind, run until the section's declared
 * output is full, then any unread input is refused. liblzma reads lazily but goes as far as it can without output
 * space, so a slice may end inside a chunk, a symbol or a match, or after the next chunk's header; what is left
 * carries into the next slice. Hence the byte-at-a-time LZMA2 state machine here, and lzma-edge.ts for chunks cut by
 * a slice; whole chunks that fit take the fast path (lzma-decoder.ts).
 *
 * Not decoded, and refused as `unsupported` (xdelta3 never writes them; the stream header CRC keeps a mutated delta
 * from getting there): a block check other than none after the LZMA2 end byte, and an index or a second block after
 * the end of the block. An index would finish the stream, which xdelta3 refuses anyway unless the slice stops inside it.
 */

const DEFAULT_MAX_DICT_SIZE = 64 * 1024 * 1024;

function invalid(message: string): VcdiffError {
  return new VcdiffError("invalid_format", `XZ: ${message}`);
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
