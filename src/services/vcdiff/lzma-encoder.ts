/**
 * A small greedy LZMA2 encoder for xdelta3's secondary compression of VCDIFF sections (see xz-section.ts).
 *
 * One section slice becomes LZMA2 chunks: the first resets the dictionary and sets the properties, later ones
 * continue state and dictionary (control 0x80), and every chunk ends with a range-coder flush, as liblzma's
 * LZMA_SYNC_FLUSH leaves them (what xdelta3 writes and `xdelta3 -d` reads). Symbols: literals (matched literals
 * after a match), matches with a full distance, rep0 matches and short reps; no price optimisation. Matches reach
 * back at most DICT_SIZE bytes, the dictionary size declared in the block header.
 */

/** Dictionary size declared in the XZ block header, and the farthest a match reaches. */
export const DICT_SIZE = 1 << 20;
/** XZ's encoding of DICT_SIZE: (2 | (b & 1)) << ((b >> 1) + 11). */
export const DICT_SIZE_BYTE = 16;

// lc = 3, lp = 0, pb = 2 (the xz defaults): props byte (pb * 5 + lp) * 9 + lc.
const LC = 3;
const PB_MASK = 3;
const PROPS = (2 * 5 + 0) * 9 + LC;

// Probability array layout (the same as LZMA SDK's and lzma-decoder.ts).
const IS_MATCH = 0;
const IS_REP = 192;
const IS_REP_G0 = 204;
const IS_REP0_LONG = 240;
const POS_SLOT = 432;
const SPEC_POS = 688;
const ALIGN = 802;
const LEN_CODER = 818;
const REP_LEN_CODER = 1332;
const LITERAL = 1846;
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = 130;
const LEN_HIGH = 258;
const PROBS_SIZE = LITERAL + (0x300 << LC);

const MIN_MATCH = 2;
const MAX_MATCH = 273;
/** LZMA2 caps a chunk at 2 MiB uncompressed and 64 KiB compressed; leave room for one more symbol. */
const CHUNK_UNPACKED = (1 << 21) - MAX_MATCH;
const CHUNK_PACKED = (1 << 16) - 64;
const HASH_BITS = 18;
const CHAIN_DEPTH = 8;

export class Lzma2Encoder {
  private readonly probs = new Uint16Array(PROBS_SIZE);
  private state = 0;
  private rep0 = 0;
  // Range coder.
  private low = 0;
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private out = new Uint8Array(1 << 16);
  private outLen = 0;
  private readonly head = new Int32Array(1 << HASH_BITS);
  private chain = new Int32Array(0);

  /** Appends `input` as LZMA2 chunks to `sink` (dictionary reset first); returns the bytes written. */
  encode(input: Uint8Array, sink: (bytes: Uint8Array) => void): number {
    const n = input.length;
    this.probs.fill(0x400);
    this.state = 0;
    this.rep0 = 0;
    this.head.fill(-1);
    let window = 1024;
    while (window < n && window < DICT_SIZE) window *= 2;
    if (this.chain.length < window) this.chain = new Int32Array(window);
    let written = 0;
    let pos = 0;
    let first = true;
    while (pos < n) {
      const start = pos;
      this.low = 0;
      this.range = 0xffffffff;
      this.cache = 0;
      this.cacheSize = 1;
      this.outLen = 0;
      while (pos < n && pos - start < CHUNK_UNPACKED && this.outLen + this.cacheSize < CHUNK_PACKED) {
        pos = this.symbol(input, pos);
      }
      for (let i = 0; i < 5; i++) this.shiftLow();
      const unpacked = pos - start - 1;
      const packed = this.outLen - 1;
      const header = first
        ? [0xe0 | (unpacked >>> 16), (unpacked >>> 8) & 0xff, unpacked & 0xff, packed >>> 8, packed & 0xff, PROPS]
        : [0x80 | (unpacked >>> 16), (unpacked >>> 8) & 0xff, unpacked & 0xff, packed >>> 8, packed & 0xff];
      sink(Uint8Array.from(header));
      sink(this.out.slice(0, this.outLen));
      written += header.length + this.outLen;
      first = false;
    }
    return written;
  }

  /** Encodes the symbol at pos (a literal, short rep or match); returns the position after it. */
  private symbol(input: Uint8Array, pos: number): number {
    const n = input.length;
    const max = Math.min(MAX_MATCH, n - pos);
    const posState = pos & PB_MASK;
    const rep = this.rep0 + 1; // distance of rep0
    let repLen = 0;
    if (pos >= rep) while (repLen < max && input[pos + repLen] === input[pos + repLen - rep]) repLen++;
    let bestLen = 0;
    let bestDist = 0;
    if (max >= 3) {
      const mask = this.chain.length - 1;
      let c = this.head[hash3(input, pos)];
      for (let depth = CHAIN_DEPTH; c >= 0 && depth-- > 0; c = this.chain[c & mask]) {
        const dist = pos - c;
        if (dist > mask) break;
        if (input[c + bestLen] !== input[pos + bestLen]) continue;
        let len = 0;
        while (len < max && input[c + len] === input[pos + len]) len++;
        if (len > bestLen) {
          bestLen = len;
          bestDist = dist;
          if (len === max) break;
        }
      }
    }
    let len: number;
    if (repLen >= MIN_MATCH && repLen + 2 >= bestLen) {
      len = repLen;
      this.bit(IS_MATCH + (this.state << 4) + posState, 1);
      this.bit(IS_REP + this.state, 1);
      this.bit(IS_REP_G0 + this.state, 0);
      this.bit(IS_REP0_LONG + (this.state << 4) + posState, 1);
      this.length(REP_LEN_CODER, len - MIN_MATCH, posState);
      this.state = this.state < 7 ? 8 : 11;
    } else if (bestLen >= 4 || (bestLen === 3 && bestDist <= 1 << 12)) {
      len = bestLen;
      this.bit(IS_MATCH + (this.state << 4) + posState, 1);
      this.bit(IS_REP + this.state, 0);
      this.length(LEN_CODER, len - MIN_MATCH, posState);
      this.distance(bestDist - 1, len);
      this.rep0 = bestDist - 1;
      this.state = this.state < 7 ? 7 : 10;
    } else if (repLen === 1 && this.state >= 7) {
      // After a match the byte at rep0 is the likeliest; a short rep codes it in about four bits.
      len = 1;
      this.bit(IS_MATCH + (this.state << 4) + posState, 1);
      this.bit(IS_REP + this.state, 1);
      this.bit(IS_REP_G0 + this.state, 0);
      this.bit(IS_REP0_LONG + (this.state << 4) + posState, 0);
      this.state = this.state < 7 ? 9 : 11;
    } else {
      len = 1;
      this.bit(IS_MATCH + (this.state << 4) + posState, 0);
      this.literal(input, pos);
    }
    const mask = this.chain.length - 1;
    const last = Math.min(pos + len, n - 2);
    for (let p = pos; p < last; p++) {
      const h = hash3(input, p);
      this.chain[p & mask] = this.head[h];
      this.head[h] = p;
    }
    return pos + len;
  }

  private literal(input: Uint8Array, pos: number): void {
    const prev = pos > 0 ? input[pos - 1] : 0;
    const base = LITERAL + 0x300 * (prev >>> (8 - LC));
    let symbol = input[pos] | 0x100;
    if (this.state < 7) {
      while (symbol < 0x10000) {
        this.bit(base + (symbol >>> 8), (symbol >>> 7) & 1);
        symbol <<= 1;
      }
    } else {
      let matchByte = input[pos - this.rep0 - 1];
      let offs = 0x100;
      while (symbol < 0x10000) {
        matchByte <<= 1;
        this.bit(base + offs + (matchByte & offs) + (symbol >>> 8), (symbol >>> 7) & 1);
        symbol <<= 1;
        offs &= ~(matchByte ^ symbol);
      }
    }
    this.state = this.state < 4 ? 0 : this.state < 10 ? this.state - 3 : this.state - 6;
  }

  /** Length coder: l = length - 2, in 0..271. */
  private length(coder: number, l: number, posState: number): void {
    if (l < 8) {
      this.bit(coder + LEN_CHOICE, 0);
      this.tree(coder + LEN_LOW + (posState << 3), 3, l);
    } else if (l < 16) {
      this.bit(coder + LEN_CHOICE, 1);
      this.bit(coder + LEN_CHOICE2, 0);
      this.tree(coder + LEN_MID + (posState << 3), 3, l - 8);
    } else {
      this.bit(coder + LEN_CHOICE, 1);
      this.bit(coder + LEN_CHOICE2, 1);
      this.tree(coder + LEN_HIGH, 8, l - 16);
    }
  }

  /** Distance coder: dist is the distance minus one. */
  private distance(dist: number, len: number): void {
    const lenState = Math.min(len - MIN_MATCH, 3);
    let slot: number;
    if (dist < 4) {
      slot = dist;
    } else {
      const bits = 31 - Math.clz32(dist);
      slot = (bits << 1) | ((dist >>> (bits - 1)) & 1);
    }
    this.tree(POS_SLOT + (lenState << 6), 6, slot);
    if (slot < 4) return;
    const footer = (slot >>> 1) - 1;
    const base = (2 | (slot & 1)) << footer;
    const reduced = dist - base;
    if (slot < 14) {
      this.reverseTree(SPEC_POS + base - slot - 1, footer, reduced);
    } else {
      this.direct(reduced >>> 4, footer - 4);
      this.reverseTree(ALIGN, 4, reduced & 15);
    }
  }

  private tree(probs: number, bits: number, value: number): void {
    let m = 1;
    for (let i = bits - 1; i >= 0; i--) {
      const b = (value >>> i) & 1;
      this.bit(probs + m, b);
      m = (m << 1) | b;
    }
  }

  private reverseTree(probs: number, bits: number, value: number): void {
    let m = 1;
    for (let i = 0; i < bits; i++) {
      const b = value & 1;
      value >>>= 1;
      this.bit(probs + m, b);
      m = (m << 1) | b;
    }
  }

  private bit(index: number, bit: number): void {
    const p = this.probs[index];
    const bound = (this.range >>> 11) * p;
    if (bit === 0) {
      this.range = bound;
      this.probs[index] = p + ((2048 - p) >>> 5);
    } else {
      this.low += bound;
      this.range -= bound;
      this.probs[index] = p - (p >>> 5);
    }
    while (this.range < 1 << 24) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }

  private direct(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.range = this.range >>> 1;
      if ((value >>> i) & 1) this.low += this.range;
      while (this.range < 1 << 24) {
        this.range = (this.range * 256) >>> 0;
        this.shiftLow();
      }
    }
  }

  private shiftLow(): void {
    const low = this.low;
    if (low < 0xff000000 || low >= 0x100000000) {
      const carry = low >= 0x100000000 ? 1 : 0;
      let temp = this.cache;
      do {
        this.emit((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = (low >>> 24) & 0xff;
    }
    this.cacheSize++;
    this.low = (low & 0xffffff) * 256;
  }

  private emit(byte: number): void {
    if (this.outLen === this.out.length) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.outLen++] = byte;
  }
}

function hash3(input: Uint8Array, pos: number): number {
  return Math.imul(input[pos] | (input[pos + 1] << 8) | (input[pos + 2] << 16), 0x9e3779b1) >>> (32 - HASH_BITS);
}
