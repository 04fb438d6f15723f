/**
 * Greedy matcher for one target window. At each scanned position it tries: the diagonal of the previous COPY
 * (catches the bytes right after a small replacement), source blocks with the same long hash (anywhere in the
 * source), and earlier window positions with the same 4-byte prefix (short self-copies). Runs of one byte
 * become RUN, everything unmatched becomes ADD.
 */

import { ADD, COPY, type InstructionList, RUN, type WindowSegment } from "./instruction-writer.js";
import { blockHash, bucket, HASH_LEN, SOURCE_STRIDE, type SourceIndex, TargetIndex, wordAt } from "./match-index.js";
import { varintLength } from "./varint.js";

/** Source candidates examined per bucket chain. */
const SOURCE_CANDIDATES = 8;
/** Earlier-window candidates examined per bucket chain. */
const TARGET_CANDIDATES = 16;
/** A match this long ends the candidate search. */
const NICE_LENGTH = 256;
/** Shortest match considered at all (the short hash length). */
const MIN_MATCH = 4;
/** A COPY is taken when its length minus its estimated address bytes reaches this. */
const MIN_GAIN = 2;
/** Matches shorter than this wait one position for a better one. */
const LAZY_LIMIT = 64;
/** After 2^SKIP_SHIFT unmatched bytes the scan step grows by 2, up to 1 + 2 * MAX_SKIP. */
const SKIP_SHIFT = 8;
const MAX_SKIP = 7;
/** Positions after a match's start probed for the source diagonal resuming (see the lookahead in match()). */
const DIAG_LOOKAHEAD = 4;
/** Bytes the diagonal must reach past the match's end to replace it. */
const DIAG_MARGIN = 8;
/** Shortest RUN worth emitting (vs. literal bytes in an ADD). */
const MIN_RUN = 8;
/** Address bytes assumed for a source COPY far from the previous one. */
const FAR_ADDRESS_COST = 4;

export class WindowMatcher {
  private readonly index: SourceIndex | null;
  private readonly targetIndex = new TargetIndex();
  /** Source position minus window offset of the last source COPY's end, carried across windows. */
  private srcDiag = Number.NaN;
  private lastSrcEnd = -1;

  constructor(index: SourceIndex | null) {
    this.index = index;
  }

  /** Fills `list` with the window's instructions; returns the source segment its COPYs use. */
  match(tgt: Uint8Array, list: InstructionList): WindowSegment {
    list.count = 0;
    const n = tgt.length;
    const index = this.index;
    const src = index ? index.source : new Uint8Array(0);
    const srcLen = src.length;
    const srcHead = index ? index.head : new Int32Array(2).fill(-1);
    const srcChain = index ? index.chain : new Int32Array(0);
    const srcShift = index ? index.shift : 31;
    const tIndex = this.targetIndex;
    tIndex.reset(n);
    const tHead = tIndex.head;
    const tChain = tIndex.chain;
    const tShift = tIndex.shift;
    const tBase = tIndex.base;

    let segStart = Number.POSITIVE_INFINITY;
    let segEnd = 0;
    let srcDiag = this.srcDiag; // source position - window offset on the last source COPY's diagonal
    let tgtDiag = 0; // window offset difference of the last target COPY (0 = none)
    let lastSrcEnd = this.lastSrcEnd;
    let lit = 0; // start of the pending literal bytes
    let t = 0;
    // Little-endian words at t, t + 4, t + 8, t + 12: w0 keys the target index, all four the source index.
    let w0 = 0;
    let w1 = 0;
    let w2 = 0;
    let w3 = 0;
    let fresh = true; // the words must be reloaded at t
    // Positions below this are in the target index. A position can be scanned twice (a held match that ends just
    // past where it was found resumes the scan there); it must be indexed once, and only after its own lookup, so
    // that every target candidate lies strictly before t.
    let indexed = 0;
    // The match held back by lazy matching (pendLen 0 = none).
    let pendLen = 0;
    let pendGain = 0;
    let pendStart = 0;
    let pendWhere = 0;
    const lastLong = n - HASH_LEN;
    const lastShort = n - MIN_MATCH;
    for (;;) {
      const scanning = t <= lastShort;
      let bestGain = MIN_GAIN - 1;
      let bestLen = 0;
      let bestBack = 0;
      let bestWhere = 0; // source position, or -1 - window offset
      if (scanning) {
        if (fresh) {
          w0 = wordAt(tgt, t);
          if (t <= lastLong) {
            w1 = wordAt(tgt, t + 4);
            w2 = wordAt(tgt, t + 8);
            w3 = wordAt(tgt, t + 12);
          }
          fresh = false;
        }
        const maxF = n - t;
        const maxB = t - lit;

        // The diagonals of the previous COPYs: same edit offset, e.g. after a replaced byte. Their addresses are
        // cheap (near cache or HERE), so they are scored as one address byte.
        const dp = t + srcDiag;
        if (dp >= 0 && dp < srcLen && src[dp] === tgt[t]) {
          const f = forward(src, dp, tgt, t, Math.min(maxF, srcLen - dp));
          const b = backward(src, dp, tgt, t, Math.min(maxB, dp));
          if (b + f >= MIN_MATCH && b + f - 1 > bestGain) {
            bestGain = b + f - 1;
            bestLen = b + f;
            bestBack = b;
            bestWhere = dp - b;
          }
        }
        if (tgtDiag < 0 && tgt[t + tgtDiag] === tgt[t]) {
          const c = t + tgtDiag;
          const f = forward(tgt, c, tgt, t, maxF);
          const b = backward(tgt, c, tgt, t, Math.min(maxB, c));
          if (b + f >= MIN_MATCH && b + f - 1 > bestGain) {
            bestGain = b + f - 1;
            bestLen = b + f;
            bestBack = b;
            bestWhere = -1 - (c - b);
          }
        }

        if (t <= lastLong && bestLen < NICE_LENGTH) {
          let tries = SOURCE_CANDIDATES;
          for (let c = srcHead[bucket(blockHash(w0, w1, w2, w3), srcShift)]; c >= 0 && tries-- > 0; c = srcChain[c]) {
            const p = c * SOURCE_STRIDE;
            if (src[p] !== tgt[t]) continue;
            const f = forward(src, p, tgt, t, Math.min(maxF, srcLen - p));
            if (f < MIN_MATCH) continue;
            const b = backward(src, p, tgt, t, Math.min(maxB, p));
            const start = p - b;
            const gain = b + f - (lastSrcEnd < 0 ? FAR_ADDRESS_COST : varintLength(Math.abs(start - lastSrcEnd)));
            if (gain > bestGain) {
              bestGain = gain;
              bestLen = b + f;
              bestBack = b;
              bestWhere = start;
              if (bestLen >= NICE_LENGTH) break;
            }
          }
        }

        const slot = bucket(w0, tShift);
        if (bestLen < NICE_LENGTH) {
          let tries = TARGET_CANDIDATES;
          for (let c = tHead[slot] - tBase; c >= 0 && tries-- > 0; c = tChain[c] - tBase) {
            if (c >= t || tgt[c] !== tgt[t]) continue;
            const f = forward(tgt, c, tgt, t, maxF);
            if (f < MIN_MATCH) continue;
            const b = backward(tgt, c, tgt, t, Math.min(maxB, c));
            const gain = b + f - varintLength(t - c);
            if (gain > bestGain) {
              bestGain = gain;
              bestLen = b + f;
              bestBack = b;
              bestWhere = -1 - (c - b);
              if (bestLen >= NICE_LENGTH) break;
            }
          }
        }
        if (t >= indexed) {
          tChain[t] = tHead[slot];
          tHead[slot] = tBase + t;
          indexed = t + 1;
        }
      }

      // Lazy matching: a short match is held for one position in case the next one gains more.
      let hold = false;
      if (bestLen > 0 && (pendLen === 0 || bestGain > pendGain)) {
        pendGain = bestGain;
        pendLen = bestLen;
        pendStart = t - bestBack;
        pendWhere = bestWhere;
        hold = bestLen < LAZY_LIMIT;
      }
      if (pendLen > 0 && !hold) {
        // A match off the source diagonal often ends where the diagonal resumes a few bytes after its start (a tar
        // header's changed checksum digits, then its unchanged tail and member data): prefer a few literal bytes
        // and one COPY along the diagonal to two COPYs (each costs an instruction, a size and an address).
        if (pendWhere !== pendStart + srcDiag) {
          const stop = Math.min(pendStart + DIAG_LOOKAHEAD, n - 1);
          for (let u = pendStart + 1; u <= stop; u++) {
            const dp = u + srcDiag;
            if (dp >= 0 && dp < srcLen && src[dp] === tgt[u]) {
              const f = forward(src, dp, tgt, u, Math.min(n - u, srcLen - dp));
              if (u + f >= pendStart + pendLen + DIAG_MARGIN) {
                pendLen = f;
                pendStart = u;
                pendWhere = dp;
                break;
              }
            }
          }
        }
        if (pendStart > lit) list.push(ADD, pendStart - lit, lit);
        list.push(COPY, pendLen, pendWhere);
        if (pendWhere >= 0) {
          if (pendWhere < segStart) segStart = pendWhere;
          if (pendWhere + pendLen > segEnd) segEnd = pendWhere + pendLen;
          srcDiag = pendWhere - pendStart;
          lastSrcEnd = pendWhere + pendLen;
          tgtDiag = 0;
        } else {
          tgtDiag = -1 - pendWhere - pendStart;
        }
        t = lit = pendStart + pendLen;
        pendLen = 0;
        fresh = true;
        continue;
      }
      if (!scanning) break;

      const byte = tgt[t];
      if (pendLen === 0 && tgt[t + 1] === byte) {
        let r = 2;
        while (t + r < n && tgt[t + r] === byte) r++;
        if (r >= MIN_RUN) {
          if (t > lit) list.push(ADD, t - lit, lit);
          list.push(RUN, r, t);
          t = lit = t + r;
          fresh = true;
          continue;
        }
      }
      // Long unmatched stretches (new or unrelated data) are scanned with a growing odd step: an odd step still
      // visits every alignment of the sampled source blocks, so long source matches are still found.
      const skip = pendLen === 0 ? (t - lit) >>> SKIP_SHIFT : 0;
      if (skip > 0) {
        t += 1 + 2 * Math.min(skip, MAX_SKIP);
        fresh = true;
        continue;
      }
      if (t < lastLong) {
        w1 = (w1 >>> 8) | (tgt[t + 8] << 24);
        w2 = (w2 >>> 8) | (tgt[t + 12] << 24);
        w3 = (w3 >>> 8) | (tgt[t + 16] << 24);
      }
      if (t < lastShort) w0 = (w0 >>> 8) | (tgt[t + 4] << 24);
      t++;
    }
    if (n > lit) list.push(ADD, n - lit, lit);
    this.srcDiag = srcDiag - n;
    this.lastSrcEnd = lastSrcEnd;
    return segEnd > 0 ? { position: segStart, length: segEnd - segStart } : { position: 0, length: 0 };
  }
}

/** Length of the common run a[ap…] = b[bp…], at most max. */
function forward(a: Uint8Array, ap: number, b: Uint8Array, bp: number, max: number): number {
  let f = 0;
  const quick = Math.min(max, 64);
  while (f < quick && a[ap + f] === b[bp + f]) f++;
  if (f < quick) return f;
  // A long match: compare in growing chunks natively (memcmp), then find the mismatch in the last chunk.
  for (let chunk = 256; max - f >= chunk; chunk = Math.min(chunk * 2, 1 << 16)) {
    if (Buffer.compare(a.subarray(ap + f, ap + f + chunk), b.subarray(bp + f, bp + f + chunk)) !== 0) break;
    f += chunk;
  }
  while (f < max && a[ap + f] === b[bp + f]) f++;
  return f;
}

/** Length of the common run ending just before a[ap] and b[bp], at most max. */
function backward(a: Uint8Array, ap: number, b: Uint8Array, bp: number, max: number): number {
  let k = 0;
  while (k < max && a[ap - k - 1] === b[bp - k - 1]) k++;
  return k;
}
