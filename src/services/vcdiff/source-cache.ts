import { VcdiffError } from "./errors.js";
import type { SourceReader } from "./source-reader.js";

/** Copied source spans closer than this are read with one call rather than separately. */
export const MERGE_GAP = 1024 * 1024;
/** Pieces read with `readInto` come in buffers of this size (plus one smaller at the end), recycled when evicted. */
const SLAB = 1024 * 1024;
export const SMALL_COPY = 32;
export const NO_BYTES = new Uint8Array(0);

interface Piece {
  /** Absolute offset of bytes[0] in the source. */
  start: number;
  bytes: Uint8Array;
  /** Index of the window that last used this piece; -1 marks it for dropping. */
  lastUse: number;
  /** A SLAB-sized buffer of ours, reusable once the piece is evicted. */
  slab: boolean;
}

/**
 * The bytes of one source (the source file, or the target history for VCD_TARGET windows) that windows copy from,
 * held as pieces. After a window, the most recently used pieces are kept up to `budget` bytes for the windows after
 * it: xdelta3's windows copy from ~64 MiB wide, heavily overlapping segments, so most of what a window needs was
 * already read for the one before. Pieces are sorted by offset and never overlap.
 */
export class SourceCache {
  private pieces: Piece[] = [];
  private held = 0;
  /** Evicted slabs, for the next reads (with `held`, at most `budget` bytes between windows). */
  private spare: Uint8Array[] = [];
  /** The piece the last copy came from (copies mostly go forward through one piece). */
  private current = 0;

  constructor(
    readonly reader: SourceReader,
    private readonly budget: number,
  ) {}

  /**
   * Makes `spans` (absolute [start, end) pairs, sorted and disjoint) available to `copy`, reading only the parts not
   * held. A small held piece inside a span, which would split its read in two, is read again with the rest instead.
   */
  async load(spans: Float64Array, count: number, window: number): Promise<void> {
    const pieces = this.pieces;
    const gaps: number[] = [];
    let p = 0;
    for (let s = 0; s < count; s++) {
      const start = spans[2 * s];
      const end = spans[2 * s + 1];
      while (p < pieces.length && pieceEnd(pieces[p]) <= start) p++;
      let at = start;
      for (let q = p; q < pieces.length && pieces[q].start < end; q++) {
        const piece = pieces[q];
        if (piece.start > at && pieceEnd(piece) < end && piece.bytes.length < MERGE_GAP) {
          piece.lastUse = -1;
          continue;
        }
        piece.lastUse = window;
        if (piece.start > at) gaps.push(at, piece.start);
        at = Math.max(at, pieceEnd(piece));
      }
      if (at < end) gaps.push(at, end);
    }
    let toRead = 0;
    for (let g = 0; g < gaps.length; g += 2) toRead += gaps[g + 1] - gaps[g];
    // Make room first: drop what this window does not use, least recently used first.
    this.evict(Math.max(0, this.budget - toRead), window);

    // All reads start now (the caller has work to do meanwhile); every one settles before this returns or throws.
    const read: Piece[] = [];
    const reads: Promise<void>[] = [];
    for (let g = 0; g < gaps.length; g += 2) this.read(gaps[g], gaps[g + 1], window, read, reads);
    const results = await Promise.allSettled(reads);
    this.spare.length = 0; // what this window did not reuse is garbage now
    for (const result of results) if (result.status === "rejected") throw result.reason;
    this.insert(read);
    this.current = 0;
  }

  /** After a window: keeps at most `budget` bytes, the most recently used (and, among those, the furthest on). */
  finish(): void {
    this.evict(this.budget, Number.POSITIVE_INFINITY);
  }

  /** Copies source bytes [offset, offset + size) to out[op...]; `load` made sure that pieces cover them. */
  copy(out: Uint8Array, op: number, offset: number, size: number): void {
    const pieces = this.pieces;
    let i = this.current;
    if (!(pieces[i].start <= offset && offset < pieceEnd(pieces[i]))) {
      let lo = 0;
      let hi = pieces.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (pieces[mid].start <= offset) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
    }
    for (;;) {
      const bytes = pieces[i].bytes;
      const from = offset - pieces[i].start;
      const n = Math.min(size, bytes.length - from);
      if (n < SMALL_COPY) for (let k = 0; k < n; k++) out[op + k] = bytes[from + k];
      else out.set(bytes.subarray(from, from + n), op);
      this.current = i;
      if (n === size) return;
      // The copy continues in the next piece, which starts where this one ends.
      size -= n;
      offset += n;
      op += n;
      i++;
    }
  }

  /**
   * Starts reading source bytes [start, end) as new pieces (into slabs when the reader can fill our buffers), adding
   * them to `into` and their reads to `reads`.
   */
  private read(start: number, end: number, window: number, into: Piece[], reads: Promise<void>[]): void {
    const reader = this.reader;
    const readInto = reader.readInto?.bind(reader);
    this.held += end - start;
    // Each read is an async IIFE: it starts at once, and a synchronous throw becomes a rejection.
    if (!readInto) {
      const piece: Piece = { start, bytes: NO_BYTES, lastUse: window, slab: false };
      into.push(piece);
      reads.push(
        (async () => {
          const length = end - start;
          piece.bytes = await reader.read(start, length);
          if (piece.bytes.length !== length) {
            throw new VcdiffError(
              "invalid_format",
              `source read at ${start} gave ${piece.bytes.length} of ${length} bytes`,
            );
          }
        })(),
      );
      return;
    }
    for (let at = start; at < end; ) {
      const slab = end - at >= SLAB;
      const bytes = slab ? (this.spare.pop() ?? Buffer.allocUnsafe(SLAB)) : Buffer.allocUnsafe(end - at);
      const offset = at;
      reads.push((async () => readInto(bytes, offset))());
      into.push({ start: at, bytes, lastUse: window, slab });
      at += bytes.length;
    }
  }

  /** Merges newly read pieces (sorted, overlapping none held) into the held ones. */
  private insert(read: Piece[]): void {
    if (read.length === 0) return;
    const held = this.pieces;
    const merged: Piece[] = [];
    let h = 0;
    let r = 0;
    while (h < held.length || r < read.length) {
      if (r === read.length || (h < held.length && held[h].start < read[r].start)) merged.push(held[h++]);
      else merged.push(read[r++]);
    }
    this.pieces = merged;
  }

  /**
   * Drops pieces last used before window `before` (and those marked -1 by `load`) until at most `limit` bytes are
   * held: the least recently used first, and among pieces last used by the same window, the lowest offsets first.
   */
  private evict(limit: number, before: number): void {
    const order = this.pieces.filter((piece) => piece.lastUse < before);
    order.sort((x, y) => x.lastUse - y.lastUse || x.start - y.start);
    const drop = new Set<Piece>();
    for (const piece of order) {
      if (this.held <= limit && piece.lastUse >= 0) break;
      drop.add(piece);
      this.held -= piece.bytes.length;
      if (piece.slab && this.held + (this.spare.length + 1) * SLAB <= this.budget) this.spare.push(piece.bytes);
    }
    if (drop.size > 0) this.pieces = this.pieces.filter((piece) => !drop.has(piece));
  }
}

function pieceEnd(piece: Piece): number {
  return piece.start + piece.bytes.length;
}
