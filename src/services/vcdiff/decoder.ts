import { open } from "node:fs/promises";
import { adler32 } from "./adler32.js";
import { ADD, DEFAULT_CODE_TABLE, NEAR_SIZE, NOOP, RUN, SAME_SIZE } from "./code-table.js";
import { VcdiffError } from "./errors.js";
import {
  DeltaInput,
  readFileHeader,
  readWindowHeader,
  VCD_ADDRCOMP,
  VCD_DATACOMP,
  VCD_INSTCOMP,
  VCD_SOURCE,
  VCD_TARGET,
  type VcdiffHeader,
  type WindowHeader,
} from "./header.js";
import { XzSectionDecoder } from "./lzma2.js";

/**
 * Random access to the reference a delta was made against. `read` must return exactly `length` bytes. The decoder
 * may have several reads (of disjoint ranges) in progress at once.
 */
export interface SourceReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array> | Uint8Array;
  /**
   * Optional: fills all of `target` with the bytes from `offset` on. When present, the decoder reads into buffers
   * it reuses from window to window instead of calling `read` (worth it when `read` would copy anyway, as from a
   * file; a reader over memory is better off returning views from `read`).
   */
  readInto?(target: Uint8Array, offset: number): Promise<void> | void;
}

export interface DecodeOptions {
  /**
   * Cap on target window and (decompressed) section sizes; larger ones fail with limit_exceeded. Default 64 MiB.
   * The source bytes held for one window (only the ranges its copies use) are capped at 4x this; between windows,
   * up to this much of what was read is kept for the next windows.
   */
  maxWindowSize?: number;
  /** Check each window's Adler-32 when the delta carries one. Default true. */
  verifyChecksum?: boolean;
  /** Largest LZMA2 dictionary accepted in secondary sections. */
  maxDictSize?: number;
  /**
   * Decode VCD_TARGET windows (RFC 3284 allows them; xdelta3 3.0.11 refuses them as "not implemented", and never
   * writes them). Default false: refused as `unsupported`, so what Glider accepts is what xdelta3 accepts.
   */
  targetWindows?: boolean;
  /**
   * Produced target bytes kept for VCD_TARGET windows (RFC 3284 lets a window copy from any earlier target).
   * Windows already yielded are retained by reference, so this costs up to this much plus one window of memory
   * even when no VCD_TARGET window appears; xdelta3 never writes them. Reaching further back is limit_exceeded.
   * Default 8 MiB; 0 disables retention.
   */
  maxTargetHistory?: number;
  /**
   * Decode the next window while the consumer handles the current one (faster file-to-file decoding, at the cost of
   * one more window in memory). Servers bounding memory across many concurrent decodes turn it off. Default true.
   */
  lookahead?: boolean;
  /**
   * Supplies the buffer each window is decoded into (at least `length` bytes; the window is its first `length`),
   * once the window's sections are read, so a caller may wait here for memory. Lets a server recycle window buffers
   * instead of allocating one per window. The decoder writes only into the
   * buffer for the window being decoded, and keeps none after yielding it unless maxTargetHistory retains it, so a
   * caller recycling buffers sets maxTargetHistory to 0. Default: a fresh buffer per window.
   */
  allocateWindow?: (length: number) => Uint8Array | Promise<Uint8Array>;
}

export interface VcdiffReader {
  readonly header: VcdiffHeader;
  /**
   * Target bytes, one chunk per window, yielded once the window is complete and its Adler-32 verified.
   * Chunks are not reused by the decoder, but must not be mutated while VCD_TARGET history may refer to them.
   * While the consumer handles a chunk, the decoder already decodes the next window (reading the delta and the
   * source). Returning from or throwing into the generator stops reading the delta: a Node stream is destroyed at
   * once; the generator returns when that lookahead has settled, so the source is no longer in use by then.
   */
  decode(source: SourceReader | null): AsyncGenerator<Uint8Array>;
  /** Window headers only, skipping section bytes (what `printhdr` shows). Use either this or decode, once. */
  windows(): AsyncGenerator<WindowHeader>;
  /** Stops reading the delta without decoding (after openVcdiff, when the caller decides not to decode). */
  close(): Promise<void>;
  /** Target bytes yielded so far; compare with the expected size to catch a delta cut at a window boundary. */
  readonly bytesProduced: number;
  readonly windowsDecoded: number;
}

export const DEFAULT_MAX_WINDOW_SIZE = 64 * 1024 * 1024;
export const DEFAULT_MAX_TARGET_HISTORY = 8 * 1024 * 1024;

export function bufferSource(bytes: Uint8Array): SourceReader {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** A SourceReader over a file, reading only the ranges asked for. Call close() when done. */
export async function fileSource(path: string): Promise<SourceReader & { close(): Promise<void> }> {
  const handle = await open(path, "r");
  const { size } = await handle.stat();
  const readInto = async (target: Uint8Array, offset: number) => {
    let filled = 0;
    while (filled < target.length) {
      const { bytesRead } = await handle.read(target, filled, target.length - filled, offset + filled);
      if (bytesRead === 0) throw new VcdiffError("invalid_format", `source file ${path} is shorter than ${size} bytes`);
      filled += bytesRead;
    }
  };
  return {
    size,
    async read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      await readInto(out, offset);
      return out;
    },
    readInto,
    close: () => handle.close(),
  };
}

/** Reads the file header, so the caller can pick the source (e.g. from the app header) before decoding. */
export async function openVcdiff(
  delta: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: DecodeOptions = {},
): Promise<VcdiffReader> {
  const input = new DeltaInput(delta);
  try {
    const header = await readFileHeader(input, options.maxWindowSize ?? DEFAULT_MAX_WINDOW_SIZE);
    return new StreamingDecoder(input, header, options);
  } catch (error) {
    await input.close();
    throw error;
  }
}

export async function decodeVcdiffBuffer(
  delta: Uint8Array,
  source: Uint8Array | null,
  options?: DecodeOptions,
): Promise<Uint8Array> {
  const reader = await openVcdiff([delta], options);
  const parts: Uint8Array[] = [];
  for await (const chunk of reader.decode(source ? bufferSource(source) : null)) parts.push(chunk);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

const SECTION_NAMES = ["data section", "instruction section", "address section"] as const;
const SECTION_BITS = [VCD_DATACOMP, VCD_INSTCOMP, VCD_ADDRCOMP] as const;

/**
 * A section of `size` (decompressed) bytes. `bytes()` decompresses an LZMA-coded one; call it exactly once per
 * section, in delta order per section kind (the LZMA state carries over from window to window).
 */
interface Section {
  readonly size: number;
  bytes(): Uint8Array;
}

class StreamingDecoder implements VcdiffReader {
  bytesProduced = 0;
  windowsDecoded = 0;
  private started = false;
  private readonly maxWindowSize: number;
  private readonly verifyChecksum: boolean;
  private readonly lookahead: boolean;
  private readonly maxDictSize: number | undefined;
  private readonly targetWindows: boolean;
  private readonly history: TargetHistory;
  private readonly xz: (XzSectionDecoder | undefined)[] = [undefined, undefined, undefined];
  private readonly interpreter: Interpreter;
  /** Reads VCD_TARGET windows' segments; keeps nothing between windows (the history is in memory anyway). */
  private readonly historyCache: SourceCache;

  constructor(
    private readonly input: DeltaInput,
    readonly header: VcdiffHeader,
    options: DecodeOptions,
  ) {
    this.maxWindowSize = options.maxWindowSize ?? DEFAULT_MAX_WINDOW_SIZE;
    this.verifyChecksum = options.verifyChecksum ?? true;
    this.lookahead = options.lookahead ?? true;
    this.maxDictSize = options.maxDictSize;
    this.targetWindows = options.targetWindows ?? false;
    this.history = new TargetHistory(options.maxTargetHistory ?? DEFAULT_MAX_TARGET_HISTORY);
    this.interpreter = new Interpreter(4 * this.maxWindowSize, options.allocateWindow ?? Buffer.allocUnsafe);
    this.historyCache = new SourceCache(this.history, 0);
  }

  async *decode(source: SourceReader | null): AsyncGenerator<Uint8Array> {
    this.claim();
    // Source bytes read for a window are kept for the next ones, up to maxWindowSize bytes.
    const sourceCache = source ? new SourceCache(source, this.maxWindowSize) : null;
    let next: Promise<Uint8Array | null> | null = null;
    try {
      next = this.decodeWindow(0, sourceCache);
      for (let index = 0; ; index++) {
        const pending = next;
        next = null;
        const out = await pending;
        if (!out) return;
        // Decode the next window while the consumer handles this one (typically, writes it to a file). A failure
        // surfaces when the consumer asks for that window, as it would without the lookahead.
        if (this.lookahead) {
          next = this.decodeWindow(index + 1, sourceCache);
          next.catch(() => {});
        }
        this.bytesProduced += out.length;
        this.windowsDecoded++;
        if (out.length > 0) yield out;
        next ??= this.decodeWindow(index + 1, sourceCache);
      }
    } finally {
      if (next) {
        // The consumer stopped early. Let the lookahead settle before returning (the caller may release the source
        // then), without waiting on a stalled delta stream.
        this.input.abort();
        await next.catch(() => {});
      }
      await this.input.close();
    }
  }

  /** Decodes and verifies window `index` and adds it to the history; null after the last window. */
  private async decodeWindow(index: number, sourceCache: SourceCache | null): Promise<Uint8Array | null> {
    const win = await readWindowHeader(this.input, index, this.maxWindowSize);
    if (!win) {
      if (index === 0) throw new VcdiffError("truncated", "the delta has a header but no windows");
      return null;
    }
    if (win.deltaIndicator !== 0 && this.header.secondary === "none") {
      throw new VcdiffError("invalid_format", `window ${index}: compressed sections without a secondary compressor`);
    }
    const segment = this.segment(win, sourceCache);
    const data = await this.readSection(win, 0, win.dataLength);
    const inst = (await this.readSection(win, 1, win.instLength)).bytes();
    const addr = (await this.readSection(win, 2, win.addrLength)).bytes();
    const out = await this.interpreter.decodeWindow(win, data, inst, addr, segment);
    if (this.verifyChecksum && win.adler32 !== null) {
      const actual = adler32(out);
      if (actual !== win.adler32) {
        throw new VcdiffError(
          "checksum_mismatch",
          `window ${index}: Adler-32 ${hex(actual)} != expected ${hex(win.adler32)} (wrong source?)`,
        );
      }
    }
    this.history.push(out);
    return out;
  }

  async *windows(): AsyncGenerator<WindowHeader> {
    this.claim();
    try {
      for (let index = 0; ; index++) {
        const win = await readWindowHeader(this.input, index, this.maxWindowSize);
        if (!win) {
          if (index === 0) throw new VcdiffError("truncated", "the delta has a header but no windows");
          return;
        }
        await this.input.skip(win.dataLength + win.instLength + win.addrLength, `window ${index}'s sections`);
        yield win;
      }
    } finally {
      await this.input.close();
    }
  }

  close(): Promise<void> {
    return this.input.close();
  }

  private claim(): void {
    if (this.started) throw new Error("a VcdiffReader can be consumed only once");
    this.started = true;
  }

  private segment(win: WindowHeader, source: SourceCache | null): SourceCache | null {
    const end = win.sourceSegmentPosition + win.sourceSegmentLength;
    if (win.winIndicator & VCD_SOURCE) {
      if (!source)
        throw new VcdiffError("invalid_format", `window ${win.index} copies from a source, but none was given`);
      // A segment reaching past the source's end is refused when (and only when) a COPY reads there, as xdelta3
      // does ("source file too short"): see Interpreter.run.
      return source;
    }
    if (win.winIndicator & VCD_TARGET) {
      if (!this.targetWindows) {
        throw new VcdiffError(
          "unsupported",
          `window ${win.index}: VCD_TARGET windows are not supported (xdelta3 3.0.11 refuses them too)`,
        );
      }
      if (end > this.history.size) {
        throw new VcdiffError(
          "invalid_format",
          `window ${win.index}: target segment [${win.sourceSegmentPosition}, ${end}) is beyond the ${this.history.size} bytes produced`,
        );
      }
      return this.historyCache;
    }
    return null;
  }

  /** Reads a section from the delta; an LZMA-coded one is decompressed when (and if) its bytes are asked for. */
  private async readSection(win: WindowHeader, kind: 0 | 1 | 2, length: number): Promise<Section> {
    const name = SECTION_NAMES[kind];
    const raw = await this.input.bytes(length, `window ${win.index}'s ${name}`);
    if (!(win.deltaIndicator & SECTION_BITS[kind])) return { size: raw.length, bytes: () => raw };
    const cursor = new Cursor(raw);
    const size = cursor.u32(`window ${win.index}'s compressed ${name} length`);
    if (size === 0) {
      throw new VcdiffError("invalid_format", `window ${win.index}: compressed ${name} of decompressed size 0`);
    }
    if (size > this.maxWindowSize) {
      throw new VcdiffError(
        "limit_exceeded",
        `window ${win.index}: ${name} of ${size} bytes exceeds ${this.maxWindowSize}`,
      );
    }
    return { size, bytes: () => this.decompress(win, kind, raw.subarray(cursor.pos), size) };
  }

  private decompress(win: WindowHeader, kind: 0 | 1 | 2, input: Uint8Array, size: number): Uint8Array {
    const name = SECTION_NAMES[kind];
    let decoder = this.xz[kind];
    if (!decoder) {
      decoder = new XzSectionDecoder({ maxDictSize: this.maxDictSize });
      this.xz[kind] = decoder;
    }
    let out: Uint8Array;
    try {
      out = decoder.decodeSection(input, size);
    } catch (error) {
      if (error instanceof VcdiffError) throw error;
      const wrapped = new VcdiffError(
        "invalid_format",
        `window ${win.index}: LZMA ${name}: ${error instanceof Error ? error.message : String(error)}`,
      );
      wrapped.cause = error;
      throw wrapped;
    }
    if (out.length !== size) {
      throw new VcdiffError(
        "invalid_format",
        `window ${win.index}: LZMA ${name} gave ${out.length} bytes, not ${size}`,
      );
    }
    return out;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

/** Earlier target windows, kept by reference, that VCD_TARGET windows may copy from. */
class TargetHistory implements SourceReader {
  size = 0;
  private chunks: Uint8Array[] = [];
  private start = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.cap <= 0) {
      this.start = this.size;
      return;
    }
    this.chunks.push(chunk);
    // Drop the oldest chunk while the others still cover the last `cap` bytes.
    while (this.chunks.length > 1 && this.size - (this.start + this.chunks[0].length) >= this.cap) {
      this.start += this.chunks[0].length;
      this.chunks.shift();
    }
  }

  read(offset: number, length: number): Uint8Array {
    if (offset < this.start) {
      throw new VcdiffError(
        "limit_exceeded",
        `a VCD_TARGET window copies from target offset ${offset}, but only the last ${this.size - this.start} bytes are kept (maxTargetHistory)`,
      );
    }
    const out = new Uint8Array(length);
    let pos = this.start;
    let filled = 0;
    for (const chunk of this.chunks) {
      const from = Math.max(offset + filled - pos, 0);
      if (filled < length && from < chunk.length) {
        const n = Math.min(chunk.length - from, length - filled);
        out.set(chunk.subarray(from, from + n), filled);
        filled += n;
      }
      pos += chunk.length;
    }
    return out;
  }
}

/** A read position in a section. A class (not readVarint's result objects) so the hot loop allocates nothing. */
class Cursor {
  pos = 0;
  readonly end: number;

  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  /**
   * A varint as xdelta3 3.0.11 reads sizes and addresses (usize_t): any number of bytes, refused once the value
   * passes 2^32 - 1.
   */
  u32(what: string): number {
    const buf = this.buf;
    let p = this.pos;
    let value = 0;
    for (;;) {
      if (p >= this.end) throw new VcdiffError("invalid_format", `${what} runs past the end of its section`);
      const b = buf[p++];
      value = value * 128 + (b & 0x7f);
      if (value > U32_MAX) throw new VcdiffError("invalid_format", `${what}: varint exceeds 2^32 - 1`);
      if (b < 0x80) {
        this.pos = p;
        return value;
      }
    }
  }
}

const U32_MAX = 0xffffffff;

/** Copied source spans closer than this are read with one call rather than separately. */
const MERGE_GAP = 1024 * 1024;
/** Spans tracked per window; past this they are coalesced with a growing gap (fewer, wider reads). */
const MAX_SPANS = 1024;
/** Pieces read with `readInto` come in buffers of this size (plus one smaller at the end), recycled when evicted. */
const SLAB = 1024 * 1024;
const SMALL_COPY = 32;
const NO_BYTES = new Uint8Array(0);

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
class SourceCache {
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

const { type1: TYPE1, size1: SIZE1, mode1: MODE1, type2: TYPE2, size2: SIZE2, mode2: MODE2 } = DEFAULT_CODE_TABLE;

/**
 * Runs a window's instructions twice: a scan that validates everything and finds which source ranges are copied
 * (so only those are read), then the pass that writes the target. Control flow never depends on source bytes, so
 * the second pass cannot fail where the first succeeded.
 */
class Interpreter {
  private readonly near = new Float64Array(NEAR_SIZE);
  private readonly same = new Float64Array(SAME_SIZE * 256);
  /** Source spans [start, end) copied in the current window, relative to the segment. */
  private readonly spans = new Float64Array(2 * MAX_SPANS);
  private spanCount = 0;
  /** The first spans, as left sorted and disjoint by the last coalesce. */
  private sortedCount = 0;
  private gap = MERGE_GAP;

  /** `maxSourceRead`: most source bytes one window may make us hold (hostile deltas can scatter copies). */
  constructor(
    private readonly maxSourceRead: number,
    private readonly allocate: (length: number) => Uint8Array | Promise<Uint8Array>,
  ) {}

  async decodeWindow(
    win: WindowHeader,
    data: Section,
    inst: Uint8Array,
    addr: Uint8Array,
    segment: SourceCache | null,
  ): Promise<Uint8Array> {
    const segLen = segment ? win.sourceSegmentLength : 0;
    this.spanCount = 0;
    this.sortedCount = 0;
    this.gap = MERGE_GAP;
    this.run(win, NO_BYTES, data.size, inst, addr, segLen, segment, null);
    // The scan needs only the data section's size: decompress it (most of the LZMA work) while the source is read.
    const loading = segment && this.spanCount > 0 ? this.load(win, segment) : null;
    let bytes: Uint8Array;
    try {
      bytes = data.bytes();
    } finally {
      // Even if that failed: no read may outlive this call (the caller may release the source then).
      await loading?.catch(() => {});
    }
    await loading; // a read's failure
    if (win.targetLength === 0) return new Uint8Array(0);
    const out = await this.windowBuffer(win.targetLength);
    this.run(win, bytes, data.size, inst, addr, segLen, segment, out);
    segment?.finish();
    return out;
  }

  private async windowBuffer(length: number): Promise<Uint8Array> {
    const buffer = await this.allocate(length);
    if (buffer.length < length) throw new RangeError(`allocateWindow returned ${buffer.length} bytes for ${length}`);
    return buffer.length === length ? buffer : buffer.subarray(0, length);
  }

  private async load(win: WindowHeader, segment: SourceCache): Promise<void> {
    this.coalesce();
    let total = 0;
    for (let i = 0; i < this.spanCount; i++) total += this.spans[2 * i + 1] - this.spans[2 * i];
    if (total > this.maxSourceRead) {
      throw new VcdiffError(
        "limit_exceeded",
        `window ${win.index}: its copies would need ${total} source bytes in memory (limit ${this.maxSourceRead})`,
      );
    }
    for (let i = 0; i < 2 * this.spanCount; i++) this.spans[i] += win.sourceSegmentPosition;
    await segment.load(this.spans, this.spanCount, win.index);
  }

  private addSpan(start: number, end: number): void {
    let n = this.spanCount;
    // Consecutive copies are usually adjacent or close: extend the last span instead of adding one.
    if (n > 0) {
      const lastStart = this.spans[2 * n - 2];
      const lastEnd = this.spans[2 * n - 1];
      if (start <= lastEnd + this.gap && end + this.gap >= lastStart) {
        this.spans[2 * n - 2] = Math.min(lastStart, start);
        this.spans[2 * n - 1] = Math.max(lastEnd, end);
        return;
      }
    }
    // Scattered copies mostly fall inside a span merged by an earlier coalesce: nothing to add then.
    if (this.covered(start, end)) return;
    if (n === MAX_SPANS) {
      this.coalesce();
      while (this.spanCount > MAX_SPANS / 2) {
        this.gap *= 2;
        this.coalesce();
      }
      n = this.spanCount;
    }
    this.spans[2 * n] = start;
    this.spans[2 * n + 1] = end;
    this.spanCount = n + 1;
  }

  private covered(start: number, end: number): boolean {
    const spans = this.spans;
    let lo = 0;
    let hi = this.sortedCount - 1;
    if (hi < 0) return false;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (spans[2 * mid] <= start) lo = mid;
      else hi = mid - 1;
    }
    return spans[2 * lo] <= start && end <= spans[2 * lo + 1];
  }

  /** Sorts the spans and merges those closer than the current gap. */
  private coalesce(): void {
    const pairs: [number, number][] = [];
    for (let i = 0; i < this.spanCount; i++) pairs.push([this.spans[2 * i], this.spans[2 * i + 1]]);
    pairs.sort((x, y) => x[0] - y[0]);
    let n = 0;
    for (const [start, end] of pairs) {
      if (n > 0 && start <= this.spans[2 * n - 1] + this.gap) {
        this.spans[2 * n - 1] = Math.max(this.spans[2 * n - 1], end);
      } else {
        this.spans[2 * n] = start;
        this.spans[2 * n + 1] = end;
        n++;
      }
    }
    this.spanCount = n;
    this.sortedCount = n;
  }

  /** The scan when `out` is null (then only the data section's size, `dataEnd`, matters), else the writing pass. */
  private run(
    win: WindowHeader,
    data: Uint8Array,
    dataEnd: number,
    instBytes: Uint8Array,
    addrBytes: Uint8Array,
    segLen: number,
    segment: SourceCache | null,
    out: Uint8Array | null,
  ): void {
    const inst = new Cursor(instBytes);
    const segPos = win.sourceSegmentPosition;
    // Segment offsets from here on lie past the end of the source (a declared segment may reach beyond it).
    const segAvailable = segment ? segment.reader.size - segPos : 0;
    const addr = new Cursor(addrBytes);
    const near = this.near;
    const same = this.same;
    near.fill(0);
    same.fill(0);
    let next = 0;
    const targetLength = win.targetLength;
    let dp = 0;
    let op = 0;
    while (inst.pos < inst.end) {
      const code = instBytes[inst.pos++];
      for (let half = 0; half < 2; half++) {
        let type: number;
        let size: number;
        let mode: number;
        if (half === 0) {
          type = TYPE1[code];
          size = SIZE1[code];
          mode = MODE1[code];
        } else {
          type = TYPE2[code];
          if (type === NOOP) break;
          size = SIZE2[code];
          mode = MODE2[code];
        }
        if (size === 0) size = inst.u32("an instruction size");
        if (size > targetLength - op) {
          throw new VcdiffError(
            "invalid_format",
            `window ${win.index}: instruction overruns the ${targetLength}-byte window`,
          );
        }
        if (type === ADD) {
          if (size > dataEnd - dp)
            throw new VcdiffError("invalid_format", `window ${win.index}: ADD past the data section`);
          if (out) {
            if (size < SMALL_COPY) for (let i = 0; i < size; i++) out[op + i] = data[dp + i];
            else out.set(data.subarray(dp, dp + size), op);
          }
          dp += size;
        } else if (type === RUN) {
          if (dp >= dataEnd) throw new VcdiffError("invalid_format", `window ${win.index}: RUN past the data section`);
          if (out) out.fill(data[dp], op, op + size);
          dp++;
        } else {
          const here = segLen + op;
          let a: number;
          // Address arithmetic is modulo 2^32, as xdelta3's (usize_t) is.
          if (mode === 0) a = addr.u32("a COPY address");
          else if (mode === 1) a = (here - addr.u32("a COPY address")) >>> 0;
          else if (mode < 2 + NEAR_SIZE) a = (near[mode - 2] + addr.u32("a COPY address")) >>> 0;
          else {
            if (addr.pos >= addr.end) {
              throw new VcdiffError("invalid_format", `window ${win.index}: COPY address past the address section`);
            }
            a = same[(mode - 2 - NEAR_SIZE) * 256 + addrBytes[addr.pos++]];
          }
          if (!(a >= 0 && a < here)) {
            throw new VcdiffError(
              "invalid_format",
              `window ${win.index}: COPY address ${a} out of range (here ${here})`,
            );
          }
          // A COPY reads from the segment or from the target, never across (xdelta3: "size too large").
          if (a < segLen && a + size > segLen) {
            throw new VcdiffError(
              "invalid_format",
              `window ${win.index}: COPY of ${size} bytes at ${a} crosses the end of the ${segLen}-byte segment`,
            );
          }
          if (a < segLen && a + size > segAvailable) {
            throw new VcdiffError(
              "invalid_format",
              `window ${win.index}: COPY reads source bytes [${segPos + a}, ${segPos + a + size}) beyond the source's end (${segPos + segAvailable})`,
            );
          }
          near[next] = a;
          next = (next + 1) % NEAR_SIZE;
          same[a % (SAME_SIZE * 256)] = a;
          if (a < segLen) {
            // segLen is 0 without a segment, so there is one here.
            if (out) (segment as SourceCache).copy(out, op, segPos + a, size);
            else this.addSpan(a, a + size);
          } else if (out) copyTarget(out, a - segLen, op, size);
        }
        op += size;
      }
    }
    if (op !== targetLength) {
      throw new VcdiffError(
        "invalid_format",
        `window ${win.index}: instructions produce ${op} bytes, not ${targetLength}`,
      );
    }
    if (dp !== dataEnd) throw new VcdiffError("invalid_format", `window ${win.index}: data section not fully used`);
    if (addr.pos !== addr.end)
      throw new VcdiffError("invalid_format", `window ${win.index}: address section not fully used`);
  }
}

/** Copies within the target window; `from < to`, and the ranges may overlap (a repeating pattern). */
function copyTarget(out: Uint8Array, from: number, to: number, size: number): void {
  if (size < SMALL_COPY) {
    for (let k = 0; k < size; k++) out[to + k] = out[from + k];
    return;
  }
  if (from + size <= to) {
    out.copyWithin(to, from, from + size);
    return;
  }
  // Overlap: the output repeats with period d = to - from. Copy the written periodic prefix forward, doubling.
  let written = 0;
  let available = to - from;
  while (written < size) {
    const n = Math.min(size - written, available);
    out.copyWithin(to + written, from, from + n);
    written += n;
    available += n;
  }
}
