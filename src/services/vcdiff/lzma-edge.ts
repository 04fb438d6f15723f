import { VcdiffError } from "./errors.js";
import type { LzmaDecoder } from "./lzma-decoder.js";
import {
  ALIGN,
  IS_MATCH,
  IS_REP,
  IS_REP_G0,
  IS_REP_G1,
  IS_REP_G2,
  IS_REP0_LONG,
  LEN_CHOICE2,
  LEN_CODER,
  LEN_HIGH,
  LEN_LOW,
  LEN_MID,
  LITERAL,
  POS_SLOT,
  REP_LEN_CODER,
  SPEC_POS,
} from "./lzma-decoder.js";

/**
 * The slow, resumable half of LZMA chunk decoding: used where a chunk does not fit wholly in what is left of a
 * section's input or output (lzma2.ts takes the fast whole-chunk path everywhere else).
 *
 * xdelta3 feeds each section to one long-lived liblzma stream and stops as soon as the section's declared output is
 * full; whatever liblzma did by then carries into the next section. To accept exactly what xdelta3 accepts we stop
 * where liblzma 5.4.1 stops and consume what it consumes:
 * - the range coder normalises lazily, before each bit (not after, as the fast path does), so a byte is read only
 *   when a bit needs it;
 * - once the output is full, the decoder still decodes the next symbol if the input holds it and keeps it owed
 *   (a literal, or a match with the part that did not fit);
 * - when the input ends inside a symbol, every remaining byte counts as consumed and decoding resumes mid-symbol in
 *   the next section. We get the same effect by rolling the symbol back and replaying its bytes (`carry`) first.
 * - errors are raised at the bit where liblzma raises them, so a broken symbol cut by the section end still fails.
 */

/** Thrown by byte() when the section's input is exhausted; caught in run(). */
const NEED_INPUT = new Error("need input");

function corrupt(message: string): VcdiffError {
  return new VcdiffError("invalid_format", `LZMA: ${message}`);
}

export type EdgeResult = "chunk_done" | "stopped";

export class LzmaEdgeDecoder {
  /** Range coder init bytes still to read for the current chunk (5 at a chunk start). */
  initLeft = 5;
  private range = 0xffffffff;
  private code = 0;
  /** Uncompressed bytes of the current chunk not produced yet. */
  chunkLeft = 0;
  /** A decoded literal not written yet (output was full), or -1. */
  private owedLiteral = -1;
  /** Bytes of a decoded match (distance rep0) not written yet. */
  private owedMatch = 0;
  /** Bytes of a symbol cut short by the end of a section: replayed before new input. */
  private carry: number[] = [];
  private carryPos = 0;

  private lz!: LzmaDecoder;
  private input: Uint8Array = new Uint8Array(0);
  private inPos = 0;
  private inEnd = 0;
  /** (index, old value) pairs of the probabilities the current symbol changed, to roll it back. */
  private undo: number[] = [];

  /** True when nothing is pending, so the next chunk may take the fast path. */
  get idle(): boolean {
    return this.initLeft === 5 && this.owedLiteral < 0 && this.owedMatch === 0 && this.carry.length === 0;
  }

  /** A new chunk of `unpacked` bytes (LZMA2 has just read its sizes). */
  startChunk(unpacked: number): void {
    this.chunkLeft = unpacked;
  }

  /**
   * Decodes from input[p, end) with room for `room` more output bytes. Returns where input consumption stopped and
   * whether the chunk is complete (its range coder finished, as liblzma's STREAM_END).
   */
  run(lz: LzmaDecoder, input: Uint8Array, p: number, end: number, room: number): { p: number; result: EdgeResult } {
    this.lz = lz;
    this.input = input;
    this.inPos = p;
    this.inEnd = end;
    while (this.initLeft > 0) {
      if (this.inPos === end) return { p: end, result: "stopped" };
      const byte = input[this.inPos];
      if (this.initLeft === 5 && byte !== 0) throw corrupt("range coder does not start with 0x00");
      this.code = ((this.code << 8) | byte) >>> 0;
      this.inPos++;
      this.initLeft--;
    }
    // As liblzma: only when the rest of the chunk fits in the output is its end checked (and the output limited to it).
    const mightFinish = this.chunkLeft <= room;
    const limit = mightFinish ? this.chunkLeft : room;
    let produced = 0;
    let result: EdgeResult = "stopped";
    for (;;) {
      if (this.owedLiteral >= 0) {
        if (produced === limit) break;
        lz.putByte(this.owedLiteral);
        this.owedLiteral = -1;
        produced++;
      }
      if (this.owedMatch > 0) {
        const n = Math.min(this.owedMatch, limit - produced);
        for (let k = 0; k < n; k++) lz.putByte(lz.byteAt(lz.rep0));
        produced += n;
        this.owedMatch -= n;
        if (this.owedMatch > 0) break;
      }
      if (produced === limit && mightFinish) {
        // The chunk's bytes are all out: one more normalisation, then the range coder must be at its end.
        if (!this.normalizeOrStop()) break;
        if (this.code !== 0) throw corrupt("range coder not finished at the end of the chunk");
        result = "chunk_done";
        break;
      }
      if (!this.decodeSymbol()) break;
    }
    lz.flush();
    this.chunkLeft -= produced;
    if (result === "chunk_done") {
      this.initLeft = 5;
      this.range = 0xffffffff;
      this.code = 0;
    } else if (this.chunkLeft === 0 && (this.owedLiteral >= 0 || this.owedMatch > 0)) {
      throw corrupt("match runs past the end of the chunk");
    }
    if (this.carryPos === this.carry.length) {
      this.carry = [];
      this.carryPos = 0;
    }
    return { p: this.inPos, result };
  }

  private byte(): number {
    if (this.carryPos < this.carry.length) return this.carry[this.carryPos++];
    if (this.inPos === this.inEnd) throw NEED_INPUT;
    return this.input[this.inPos++];
  }

  /** Normalisation outside a symbol: false (nothing changed) when the input is exhausted. */
  private normalizeOrStop(): boolean {
    if (this.range < 0x1000000) {
      if (this.carryPos === this.carry.length && this.inPos === this.inEnd) return false;
      this.code = ((this.code << 8) | this.byte()) >>> 0;
      this.range = (this.range << 8) >>> 0;
    }
    return true;
  }

  private normalize(): void {
    if (this.range < 0x1000000) {
      const byte = this.byte(); // may throw NEED_INPUT before anything changes
      this.code = ((this.code << 8) | byte) >>> 0;
      this.range = (this.range << 8) >>> 0;
    }
  }

  private bit(i: number): number {
    this.normalize();
    const probs = this.lz.probs;
    const prob = probs[i];
    const bound = (this.range >>> 11) * prob;
    this.undo.push(i, prob);
    if (this.code < bound) {
      this.range = bound;
      probs[i] = prob + ((2048 - prob) >>> 5);
      return 0;
    }
    this.range -= bound;
    this.code -= bound;
    probs[i] = prob - (prob >>> 5);
    return 1;
  }

  private direct(): number {
    this.normalize();
    this.range >>>= 1;
    if (this.code >= this.range) {
      this.code -= this.range;
      return 1;
    }
    return 0;
  }

  private tree(base: number, bits: number): number {
    let m = 1;
    for (let n = 0; n < bits; n++) m = (m << 1) | this.bit(base + m);
    return m - (1 << bits);
  }

  private reverseTree(base: number, bits: number): number {
    let m = 1;
    let value = 0;
    for (let n = 0; n < bits; n++) {
      const b = this.bit(base + m);
      m = (m << 1) | b;
      value |= b << n;
    }
    return value;
  }

  private length(coder: number, posState: number): number {
    if (this.bit(coder) === 0) return 2 + this.tree(coder + LEN_LOW + (posState << 3), 3);
    if (this.bit(coder + LEN_CHOICE2) === 0) return 10 + this.tree(coder + LEN_MID + (posState << 3), 3);
    return 18 + this.tree(coder + LEN_HIGH, 8);
  }

  /**
   * Decodes one symbol into owedLiteral / owedMatch. Returns false when the input ran out inside it: the symbol is
   * rolled back and its bytes so far become `carry`, all the input counting as consumed (as liblzma, which keeps the
   * half-decoded symbol instead).
   */
  private decodeSymbol(): boolean {
    const lz = this.lz;
    const saved = [this.range, this.code, lz.state, lz.rep0, lz.rep1, lz.rep2, lz.rep3];
    const carryStart = this.carryPos;
    const inStart = this.inPos;
    this.undo.length = 0;
    try {
      this.decodeSymbolBits();
      return true;
    } catch (error) {
      if (error !== NEED_INPUT) throw error;
      const probs = lz.probs;
      for (let k = this.undo.length - 2; k >= 0; k -= 2) probs[this.undo[k]] = this.undo[k + 1];
      [this.range, this.code, lz.state, lz.rep0, lz.rep1, lz.rep2, lz.rep3] = saved;
      const replay = this.carry.slice(carryStart);
      for (let k = inStart; k < this.inEnd; k++) replay.push(this.input[k]);
      this.carry = replay;
      this.carryPos = 0;
      this.inPos = this.inEnd;
      return false;
    }
  }

  private decodeSymbolBits(): void {
    const lz = this.lz;
    const posState = lz.pos & lz.pbMask;
    let state = lz.state;
    if (this.bit(IS_MATCH + (state << 4) + posState) === 0) {
      const prev = lz.full === 0 ? 0 : lz.byteAt(0);
      const base = LITERAL + 0x300 * (((lz.pos & lz.lpMask) << lz.lc) + (prev >>> (8 - lz.lc)));
      let sym = 1;
      if (state >= 7) {
        // After a match the byte at rep0 steers the bits until one differs (0x100 while they agree, then 0).
        let matchByte = lz.byteAt(lz.rep0) << 1;
        let offset = 0x100;
        while (sym < 0x100) {
          const matchBit = matchByte & offset;
          const b = this.bit(base + offset + matchBit + sym);
          sym = (sym << 1) | b;
          offset = b ? offset & matchBit : offset & ~matchBit;
          matchByte <<= 1;
        }
      } else {
        while (sym < 0x100) sym = (sym << 1) | this.bit(base + sym);
      }
      lz.state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
      this.owedLiteral = sym & 0xff;
      return;
    }
    let len: number;
    if (this.bit(IS_REP + state) === 0) {
      state = state < 7 ? 7 : 10;
      lz.rep3 = lz.rep2;
      lz.rep2 = lz.rep1;
      lz.rep1 = lz.rep0;
      len = this.length(LEN_CODER, posState);
      lz.state = state;
      const slot = this.tree(POS_SLOT + ((len < 6 ? len - 2 : 3) << 6), 6);
      let dist: number;
      if (slot < 4) {
        dist = slot;
      } else {
        const directBits = (slot >>> 1) - 1;
        dist = ((2 | (slot & 1)) << directBits) >>> 0;
        if (slot < 14) {
          dist += this.reverseTree(SPEC_POS + dist - slot - 1, directBits);
        } else {
          let direct = 0;
          for (let n = directBits - 4; n > 0; n--) direct = direct * 2 + this.direct();
          dist += direct * 16 + this.reverseTree(ALIGN, 4);
        }
        if (dist === 0xffffffff) throw corrupt("end marker inside an LZMA2 chunk");
      }
      if (dist >= lz.full) throw corrupt("distance beyond the dictionary");
      lz.rep0 = dist;
    } else {
      // liblzma checks for history before the next bit.
      if (lz.full === 0) throw corrupt("distance beyond the dictionary");
      if (this.bit(IS_REP_G0 + state) === 0) {
        if (this.bit(IS_REP0_LONG + (state << 4) + posState) === 0) {
          lz.state = state < 7 ? 9 : 11;
          this.owedLiteral = lz.byteAt(lz.rep0);
          return;
        }
      } else {
        let dist: number;
        if (this.bit(IS_REP_G1 + state) === 0) {
          dist = lz.rep1;
        } else {
          if (this.bit(IS_REP_G2 + state) === 0) {
            dist = lz.rep2;
          } else {
            dist = lz.rep3;
            lz.rep3 = lz.rep2;
          }
          lz.rep2 = lz.rep1;
        }
        lz.rep1 = lz.rep0;
        lz.rep0 = dist;
      }
      state = state < 7 ? 8 : 11;
      len = this.length(REP_LEN_CODER, posState);
      lz.state = state;
    }
    this.owedMatch = len;
  }
}
