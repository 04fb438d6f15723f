/*
 * Over the 400-line limit on purpose (issue 21): this is the codec's hot loop. decodeChunk is one ~400-line loop over
 * local variables with every range-coder step inlined, because splitting it into helpers or sharing state through
 * fields costs V8 a large share of LZMA throughput; the class around it is small. Keep it whole.
 */
import { VcdiffError } from "./errors.js";

/**
 * The LZMA core used by LZMA2: range decoder, probability model and a circular dictionary that outlives chunks
 * (and, for xdelta3, sections). LZMA2 framing (chunk headers, reset rules) lives in lzma2.ts.
 */

// Offsets into the single probability array (lzma-edge.ts and lzma-encoder.ts use the same layout).
export const IS_MATCH = 0; // [state << 4 | posState]
export const IS_REP = 192;
export const IS_REP_G0 = 204;
export const IS_REP_G1 = 216;
export const IS_REP_G2 = 228;
export const IS_REP0_LONG = 240; // [state << 4 | posState]
export const POS_SLOT = 432; // 4 length states x 64
export const SPEC_POS = 688; // 114 reverse bit-tree probs for distance slots 4..13
export const ALIGN = 802; // 16 (index 0 unused)
export const LEN_CODER = 818;
export const REP_LEN_CODER = 1332;
export const LITERAL = 1846; // 0x300 per literal context
// Layout of a length coder (514 probs).
export const LEN_CHOICE = 0;
export const LEN_CHOICE2 = 1;
export const LEN_LOW = 2; // 16 pos states x 8
export const LEN_MID = 130; // 16 pos states x 8
export const LEN_HIGH = 258; // 256

const MAX_LC_LP = 4; // LZMA2 requires lc + lp <= 4
const PROBS_SIZE = LITERAL + (0x300 << MAX_LC_LP);
const PROB_INIT = 0x400;
/** The dictionary buffer starts small and doubles up to dictSize, so small streams with large declared dicts stay cheap. */
const INITIAL_DICT_BUFFER = 64 * 1024;

function corrupt(message: string): VcdiffError {
  return new VcdiffError("invalid_format", `LZMA: ${message}`);
}

export class LzmaDecoder {
  readonly dictSize: number;
  /*
   * The fields below are read and written by the resumable path too (lzma-edge.ts), which decodes one symbol at a
   * time where a chunk meets the end of a section; hence no `private`.
   */
  dict: Uint8Array;
  /** Write position in `dict`; reset to 0 with the dictionary so `pos & mask` is the position since the reset. */
  pos = 0;
  /** Bytes of history available for matches (at most dictSize). */
  full = 0;
  /** Start of the bytes in `dict` not yet copied to `out`. */
  private flushStart = 0;
  private out: Uint8Array = new Uint8Array(0);
  private outPos = 0;

  readonly probs = new Uint16Array(PROBS_SIZE);
  private probsBackup: Uint16Array | null = null;
  lc = 0;
  private lp = 0;
  lpMask = 0;
  pbMask = 0;
  state = 0;
  rep0 = 0;
  rep1 = 0;
  rep2 = 0;
  rep3 = 0;

  constructor(dictSize: number) {
    this.dictSize = dictSize;
    this.dict = new Uint8Array(Math.min(dictSize, INITIAL_DICT_BUFFER));
  }

  /** Directs decoded bytes to `out` from `offset` on. */
  setOutput(out: Uint8Array, offset = 0): void {
    this.out = out;
    this.outPos = offset;
  }

  get outputPosition(): number {
    return this.outPos;
  }

  /** Only valid between chunks (everything decoded so far has been flushed). */
  resetDict(): void {
    this.pos = 0;
    this.flushStart = 0;
    this.full = 0;
  }

  /** Applies an LZMA properties byte (lc/lp/pb); throws on values LZMA2 does not allow. */
  setProps(props: number): void {
    if (props >= 9 * 5 * 5) throw corrupt(`invalid properties byte 0x${props.toString(16)}`);
    const lc = props % 9;
    const lp = Math.floor(props / 9) % 5;
    const pb = Math.floor(props / 45);
    if (lc + lp > MAX_LC_LP) throw corrupt(`lc + lp > 4 (lc=${lc}, lp=${lp})`);
    this.lc = lc;
    this.lp = lp;
    this.lpMask = (1 << lp) - 1;
    this.pbMask = (1 << pb) - 1;
  }

  resetState(): void {
    this.probs.fill(PROB_INIT, 0, LITERAL + (0x300 << (this.lc + this.lp)));
    this.state = 0;
    this.rep0 = 0;
    this.rep1 = 0;
    this.rep2 = 0;
    this.rep3 = 0;
  }

  /** LZMA2 uncompressed chunk: the bytes go through the dictionary unchanged. */
  copyUncompressed(input: Uint8Array, start: number, length: number): void {
    let src = start;
    const end = start + length;
    while (src < end) {
      const n = Math.min(end - src, this.dict.length - this.pos);
      this.dict.set(input.subarray(src, src + n), this.pos);
      this.pos += n;
      src += n;
      if (this.pos === this.dict.length) this.wrap();
    }
    this.full = Math.min(this.full + length, this.dictSize);
    this.flush();
  }

  /**
   * Decodes one LZMA chunk: exactly `unpackedSize` bytes from exactly `packedSize` bytes at `input[start]`.
   * The caller has checked that the packed bytes are present.
   *
   * Written as one loop over local variables, for speed: every probability-coded bit is the same inlined step
   * (bound = (range >>> 11) * p; bit 0 when code < bound, and p rises; else bit 1, and p falls; then normalise).
   * range and code are int32 holding uint32 bit patterns, which keeps V8 on integer arithmetic; unsigned comparisons
   * flip the sign bit first (x ^ 0x80000000). Reading past the chunk yields undefined, which `|` turns into 0; the
   * size check at the end rejects such a chunk.
   */
  decodeChunk(input: Uint8Array, start: number, packedSize: number, unpackedSize: number): void {
    if (packedSize < 5) throw corrupt("chunk too short for the range coder");
    if (input[start] !== 0) throw corrupt("range coder does not start with 0x00");
    let range = -1;
    let code = (input[start + 1] << 24) | (input[start + 2] << 16) | (input[start + 3] << 8) | input[start + 4];
    let inPos = start + 5;

    const probs = this.probs;
    const lc = this.lc;
    const lpMask = this.lpMask;
    const pbMask = this.pbMask;
    const dictSize = this.dictSize;
    let dict = this.dict;
    let pos = this.pos;
    let full = this.full;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    let remaining = unpackedSize;
    let i = 0;
    let prob = 0;
    let bound = 0;
    let bit = 0;

    while (remaining > 0) {
      const posState = pos & pbMask;
      i = IS_MATCH + (state << 4) + posState;
      prob = probs[i];
      bound = Math.imul(range >>> 11, prob);
      if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
        range = bound;
        probs[i] = prob + ((2048 - prob) >>> 5);
        if (range >>> 24 === 0) {
          range <<= 8;
          code = (code << 8) | input[inPos++];
        }
        // Literal, coded with the previous byte and the position as context.
        const prev = full === 0 ? 0 : dict[(pos === 0 ? dict.length : pos) - 1];
        const base = LITERAL + 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (state >= 7) {
          // After a match, the byte at rep0 steers the bits until one differs.
          let src = pos - rep0 - 1;
          if (src < 0) src += dict.length;
          let matchByte = dict[src];
          let matchBit: number;
          do {
            matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            i = base + ((1 + matchBit) << 8) + sym;
            prob = probs[i];
            bound = Math.imul(range >>> 11, prob);
            if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
              range = bound;
              probs[i] = prob + ((2048 - prob) >>> 5);
              bit = 0;
            } else {
              range = (range - bound) | 0;
              code = (code - bound) | 0;
              probs[i] = prob - (prob >>> 5);
              bit = 1;
            }
            if (range >>> 24 === 0) {
              range <<= 8;
              code = (code << 8) | input[inPos++];
            }
            sym = (sym << 1) | bit;
          } while (bit === matchBit && sym < 0x100);
        }
        // The remaining bits, branch-free: literal bits are often close to 50/50 (new data is what a delta's data
        // section holds), so branching on each would mispredict half the time. With mask = -bit (0 or -1), this is
        // the same step as elsewhere: bit 0 keeps range = bound and raises p by (2048 - p) >> 5; bit 1 takes bound
        // off range and code and lowers p by p >> 5. Both updates of p are p - ((p - c) >> 5), with c = 2017 or 0.
        while (sym < 0x100) {
          i = base + sym;
          prob = probs[i];
          bound = Math.imul(range >>> 11, prob);
          bit = +((code ^ 0x80000000) >= (bound ^ 0x80000000));
          const mask = -bit;
          range = (bound ^ (((range - bound) ^ bound) & mask)) | 0; // bit ? range - bound : bound
          code = (code - (bound & mask)) | 0;
          probs[i] = prob - ((prob - (2017 & ~mask)) >> 5);
          sym = (sym << 1) | bit;
          if (range >>> 24 === 0) {
            range <<= 8;
            code = (code << 8) | input[inPos++];
          }
        }
        dict[pos++] = sym;
        if (pos === dict.length) {
          this.pos = pos;
          this.wrap();
          pos = this.pos;
          dict = this.dict;
        }
        if (full < dictSize) full++;
        remaining--;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      range = (range - bound) | 0;
      code = (code - bound) | 0;
      probs[i] = prob - (prob >>> 5);
      if (range >>> 24 === 0) {
        range <<= 8;
        code = (code << 8) | input[inPos++];
      }

      // A match. Which kind is decided by up to four more bits: IS_REP, IS_REP_G0, IS_REP0_LONG / IS_REP_G1, IS_REP_G2.
      let lenCoder = REP_LEN_CODER;
      i = IS_REP + state;
      prob = probs[i];
      bound = Math.imul(range >>> 11, prob);
      if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
        range = bound;
        probs[i] = prob + ((2048 - prob) >>> 5);
        lenCoder = LEN_CODER; // new distance, decoded after the length
        state = state < 7 ? 7 : 10;
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
      } else {
        range = (range - bound) | 0;
        code = (code - bound) | 0;
        probs[i] = prob - (prob >>> 5);
        if (range >>> 24 === 0) {
          range <<= 8;
          code = (code << 8) | input[inPos++];
        }
        i = IS_REP_G0 + state;
        prob = probs[i];
        bound = Math.imul(range >>> 11, prob);
        if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
          range = bound;
          probs[i] = prob + ((2048 - prob) >>> 5);
          if (range >>> 24 === 0) {
            range <<= 8;
            code = (code << 8) | input[inPos++];
          }
          i = IS_REP0_LONG + (state << 4) + posState;
          prob = probs[i];
          bound = Math.imul(range >>> 11, prob);
          if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
            range = bound;
            probs[i] = prob + ((2048 - prob) >>> 5);
            if (range >>> 24 === 0) {
              range <<= 8;
              code = (code << 8) | input[inPos++];
            }
            // Short rep: one byte from rep0.
            if (rep0 >= full) throw corrupt("distance beyond the dictionary");
            state = state < 7 ? 9 : 11;
            let src = pos - rep0 - 1;
            if (src < 0) src += dict.length;
            dict[pos] = dict[src];
            pos++;
            if (pos === dict.length) {
              this.pos = pos;
              this.wrap();
              pos = this.pos;
              dict = this.dict;
            }
            if (full < dictSize) full++;
            remaining--;
            continue;
          }
          range = (range - bound) | 0;
          code = (code - bound) | 0;
          probs[i] = prob - (prob >>> 5);
        } else {
          range = (range - bound) | 0;
          code = (code - bound) | 0;
          probs[i] = prob - (prob >>> 5);
          if (range >>> 24 === 0) {
            range <<= 8;
            code = (code << 8) | input[inPos++];
          }
          // Rep 1, 2 or 3 moves to the front.
          let dist: number;
          i = IS_REP_G1 + state;
          prob = probs[i];
          bound = Math.imul(range >>> 11, prob);
          if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
            range = bound;
            probs[i] = prob + ((2048 - prob) >>> 5);
            dist = rep1;
          } else {
            range = (range - bound) | 0;
            code = (code - bound) | 0;
            probs[i] = prob - (prob >>> 5);
            if (range >>> 24 === 0) {
              range <<= 8;
              code = (code << 8) | input[inPos++];
            }
            i = IS_REP_G2 + state;
            prob = probs[i];
            bound = Math.imul(range >>> 11, prob);
            if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
              range = bound;
              probs[i] = prob + ((2048 - prob) >>> 5);
              dist = rep2;
            } else {
              range = (range - bound) | 0;
              code = (code - bound) | 0;
              probs[i] = prob - (prob >>> 5);
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        state = state < 7 ? 8 : 11;
      }
      if (range >>> 24 === 0) {
        range <<= 8;
        code = (code << 8) | input[inPos++];
      }

      // Length: choice bits pick low (2-9), mid (10-17) or high (18-273), each a bit tree.
      let treeBase: number;
      let treeBits: number;
      let len: number;
      i = lenCoder + LEN_CHOICE;
      prob = probs[i];
      bound = Math.imul(range >>> 11, prob);
      if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
        range = bound;
        probs[i] = prob + ((2048 - prob) >>> 5);
        treeBase = lenCoder + LEN_LOW + (posState << 3);
        treeBits = 3;
        len = 2;
      } else {
        range = (range - bound) | 0;
        code = (code - bound) | 0;
        probs[i] = prob - (prob >>> 5);
        if (range >>> 24 === 0) {
          range <<= 8;
          code = (code << 8) | input[inPos++];
        }
        i = lenCoder + LEN_CHOICE2;
        prob = probs[i];
        bound = Math.imul(range >>> 11, prob);
        if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
          range = bound;
          probs[i] = prob + ((2048 - prob) >>> 5);
          treeBase = lenCoder + LEN_MID + (posState << 3);
          treeBits = 3;
          len = 10;
        } else {
          range = (range - bound) | 0;
          code = (code - bound) | 0;
          probs[i] = prob - (prob >>> 5);
          treeBase = lenCoder + LEN_HIGH;
          treeBits = 8;
          len = 18;
        }
      }
      if (range >>> 24 === 0) {
        range <<= 8;
        code = (code << 8) | input[inPos++];
      }
      let m = 1;
      const treeEnd = 1 << treeBits;
      while (m < treeEnd) {
        i = treeBase + m;
        prob = probs[i];
        bound = Math.imul(range >>> 11, prob);
        if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
          range = bound;
          probs[i] = prob + ((2048 - prob) >>> 5);
          m <<= 1;
        } else {
          range = (range - bound) | 0;
          code = (code - bound) | 0;
          probs[i] = prob - (prob >>> 5);
          m = (m << 1) | 1;
        }
        if (range >>> 24 === 0) {
          range <<= 8;
          code = (code << 8) | input[inPos++];
        }
      }
      len += m - treeEnd;

      if (lenCoder === LEN_CODER) {
        // New distance: a 6-bit slot (context: the length), then extra bits.
        const slotBase = POS_SLOT + ((len < 6 ? len - 2 : 3) << 6);
        let slot = 1;
        while (slot < 64) {
          i = slotBase + slot;
          prob = probs[i];
          bound = Math.imul(range >>> 11, prob);
          if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
            range = bound;
            probs[i] = prob + ((2048 - prob) >>> 5);
            slot <<= 1;
          } else {
            range = (range - bound) | 0;
            code = (code - bound) | 0;
            probs[i] = prob - (prob >>> 5);
            slot = (slot << 1) | 1;
          }
          if (range >>> 24 === 0) {
            range <<= 8;
            code = (code << 8) | input[inPos++];
          }
        }
        slot -= 64;
        if (slot < 4) {
          rep0 = slot;
        } else {
          const numDirectBits = (slot >>> 1) - 1;
          // `>>> 0`: slots 62 and 63 exceed 2^31.
          let dist = ((2 | (slot & 1)) << numDirectBits) >>> 0;
          let revBase: number;
          let revBits: number;
          if (slot < 14) {
            revBase = SPEC_POS + dist - slot - 1;
            revBits = numDirectBits;
          } else {
            // Fixed-probability bits above the 4 aligned low bits.
            let direct = 0;
            for (let n = numDirectBits - 4; n > 0; n--) {
              range >>>= 1;
              if ((code ^ 0x80000000) >= (range ^ 0x80000000)) {
                code = (code - range) | 0;
                direct = direct * 2 + 1;
              } else {
                direct *= 2;
              }
              if (range >>> 24 === 0) {
                range <<= 8;
                code = (code << 8) | input[inPos++];
              }
            }
            dist += direct * 16;
            revBase = ALIGN;
            revBits = 4;
          }
          // Reverse bit tree: the low bits, least significant first.
          m = 1;
          for (let n = 0; n < revBits; n++) {
            i = revBase + m;
            prob = probs[i];
            bound = Math.imul(range >>> 11, prob);
            if ((code ^ 0x80000000) < (bound ^ 0x80000000)) {
              range = bound;
              probs[i] = prob + ((2048 - prob) >>> 5);
              m <<= 1;
            } else {
              range = (range - bound) | 0;
              code = (code - bound) | 0;
              probs[i] = prob - (prob >>> 5);
              m = (m << 1) | 1;
              dist += 1 << n;
            }
            if (range >>> 24 === 0) {
              range <<= 8;
              code = (code << 8) | input[inPos++];
            }
          }
          if (dist === 0xffffffff) throw corrupt("end marker inside an LZMA2 chunk");
          rep0 = dist;
        }
      }

      if (rep0 >= full) throw corrupt("distance beyond the dictionary");
      if (len > remaining) throw corrupt("match runs past the end of the chunk");
      remaining -= len;
      full = Math.min(full + len, dictSize);
      let src = pos - rep0 - 1;
      if (src < 0) src += dict.length;
      if (pos + len < dict.length && src + len < dict.length) {
        // Common case: neither end wraps. A forward byte copy also handles overlap (rep0 < len).
        const end = pos + len;
        while (pos < end) dict[pos++] = dict[src++];
      } else {
        for (; len > 0; len--) {
          dict[pos++] = dict[src++];
          if (src === dict.length) src = 0;
          if (pos === dict.length) {
            this.pos = pos;
            this.wrap();
            pos = this.pos;
            dict = this.dict;
          }
        }
      }
    }

    this.pos = pos;
    this.full = full;
    this.state = state;
    this.rep0 = rep0;
    this.rep1 = rep1;
    this.rep2 = rep2;
    this.rep3 = rep3;
    this.flush();
    if (inPos !== start + packedSize) throw corrupt("chunk's compressed size does not match its contents");
    if (code !== 0) throw corrupt("range coder not finished at the end of the chunk");
  }

  /**
   * Everything decodeChunk may change, so a chunk can be decoded again by the resumable path (lzma2.ts says when).
   * The dictionary bytes the chunk will overwrite are kept only once the buffer wraps: before that they are unused.
   */
  snapshot(unpackedSize: number): () => void {
    // One backup array per decoder: this runs for the last chunk of every section, so no allocation per call.
    const used = LITERAL + (0x300 << (this.lc + this.lp));
    this.probsBackup ??= new Uint16Array(PROBS_SIZE);
    const backup = this.probsBackup;
    backup.set(this.probs.subarray(0, used));
    const { pos, full, flushStart, outPos, state, rep0, rep1, rep2, rep3 } = this;
    const wrapped = this.dict.length === this.dictSize ? this.dict : null;
    let overwritten: Uint8Array | null = null;
    if (wrapped) {
      overwritten = new Uint8Array(Math.min(unpackedSize, wrapped.length));
      for (let k = 0; k < overwritten.length; k++) overwritten[k] = wrapped[(pos + k) % wrapped.length];
    }
    return () => {
      this.probs.set(backup.subarray(0, used));
      Object.assign(this, { pos, full, flushStart, outPos, state, rep0, rep1, rep2, rep3 });
      if (wrapped && overwritten) {
        for (let k = 0; k < overwritten.length; k++) wrapped[(pos + k) % wrapped.length] = overwritten[k];
      }
    };
  }

  /** The byte `distance + 1` back from the write position (the caller has checked it is within `full`). */
  byteAt(distance: number): number {
    let src = this.pos - distance - 1;
    if (src < 0) src += this.dict.length;
    return this.dict[src];
  }

  /** Appends one byte to the dictionary (the resumable path's output; flush() moves it to `out`). */
  putByte(byte: number): void {
    this.dict[this.pos++] = byte;
    if (this.pos === this.dict.length) this.wrap();
    if (this.full < this.dictSize) this.full++;
  }

  /** Copies the bytes decoded since the last flush to the output. */
  flush(): void {
    if (this.pos > this.flushStart) {
      this.out.set(this.dict.subarray(this.flushStart, this.pos), this.outPos);
      this.outPos += this.pos - this.flushStart;
    }
    this.flushStart = this.pos;
  }

  /** Called when `pos` reaches the end of the buffer: grow it while below dictSize, else wrap around. */
  private wrap(): void {
    this.flush();
    if (this.dict.length < this.dictSize) {
      const bigger = new Uint8Array(Math.min(this.dictSize, this.dict.length * 2));
      bigger.set(this.dict);
      this.dict = bigger;
    } else {
      this.pos = 0;
      this.flushStart = 0;
    }
  }
}
