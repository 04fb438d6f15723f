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
import { MAX_VARINT } from "./varint.js";

/** Random access to the reference a delta was made against. `read` must return exactly `length` bytes. */
export interface SourceReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array> | Uint8Array;
}

export interface DecodeOptions {
  /**
   * Cap on target window and (decompressed) section sizes; larger ones fail with limit_exceeded. Default 64 MiB.
   * The source bytes held for one window (only the ranges its copies use) are capped at 4x this.
   */
  maxWindowSize?: number;
  /** Check each window's Adler-32 when the delta carries one. Default true. */
  verifyChecksum?: boolean;
  /** Largest LZMA2 dictionary accepted in secondary sections. */
  maxDictSize?: number;
  /**
   * Produced target bytes kept for VCD_TARGET windows (RFC 3284 lets a window copy from any earlier target).
   * Windows already yielded are retained by reference, so this costs up to this much plus one window of memory
   * even when no VCD_TARGET window appears; xdelta3 never writes them. Reaching further back is limit_exceeded.
   * Default 8 MiB; 0 disables retention.
   */
  maxTargetHistory?: number;
}

export interface VcdiffReader {
  readonly header: VcdiffHeader;
  /**
   * Target bytes, one chunk per window, yielded once the window is complete and its Adler-32 verified.
   * Chunks are not reused by the decoder, but must not be mutated while VCD_TARGET history may refer to them.
   * Returning from or throwing into the generator stops reading the delta.
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
  return {
    size,
    async read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
        if (bytesRead === 0)
          throw new VcdiffError("invalid_format", `source file ${path} is shorter than ${size} bytes`);
        filled += bytesRead;
      }
      return out;
    },
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

class StreamingDecoder implements VcdiffReader {
  bytesProduced = 0;
  windowsDecoded = 0;
  private started = false;
  private readonly maxWindowSize: number;
  private readonly verifyChecksum: boolean;
  private readonly maxDictSize: number | undefined;
  private readonly history: TargetHistory;
  private readonly xz: (XzSectionDecoder | undefined)[] = [undefined, undefined, undefined];
  private readonly interpreter: Interpreter;

  constructor(
    private readonly input: DeltaInput,
    readonly header: VcdiffHeader,
    options: DecodeOptions,
  ) {
    this.maxWindowSize = options.maxWindowSize ?? DEFAULT_MAX_WINDOW_SIZE;
    this.verifyChecksum = options.verifyChecksum ?? true;
    this.maxDictSize = options.maxDictSize;
    this.history = new TargetHistory(options.maxTargetHistory ?? DEFAULT_MAX_TARGET_HISTORY);
    this.interpreter = new Interpreter(4 * this.maxWindowSize);
  }

  async *decode(source: SourceReader | null): AsyncGenerator<Uint8Array> {
    this.claim();
    try {
      for (let index = 0; ; index++) {
        const win = await readWindowHeader(this.input, index, this.maxWindowSize);
        if (!win) {
          if (index === 0) throw new VcdiffError("truncated", "the delta has a header but no windows");
          return;
        }
        if (win.deltaIndicator !== 0 && this.header.secondary === "none") {
          throw new VcdiffError(
            "invalid_format",
            `window ${index}: compressed sections without a secondary compressor`,
          );
        }
        const segment = this.segmentReader(win, source);
        const data = await this.readSection(win, 0, win.dataLength);
        const inst = await this.readSection(win, 1, win.instLength);
        const addr = await this.readSection(win, 2, win.addrLength);
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
        this.bytesProduced += out.length;
        this.windowsDecoded++;
        if (out.length > 0) yield out;
      }
    } finally {
      await this.input.close();
    }
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

  private segmentReader(win: WindowHeader, source: SourceReader | null): SourceReader | null {
    const end = win.sourceSegmentPosition + win.sourceSegmentLength;
    if (win.winIndicator & VCD_SOURCE) {
      if (!source)
        throw new VcdiffError("invalid_format", `window ${win.index} copies from a source, but none was given`);
      if (end > source.size) {
        throw new VcdiffError(
          "invalid_format",
          `window ${win.index}: source segment [${win.sourceSegmentPosition}, ${end}) is beyond the source (${source.size} bytes)`,
        );
      }
      return source;
    }
    if (win.winIndicator & VCD_TARGET) {
      if (end > this.bytesProduced) {
        throw new VcdiffError(
          "invalid_format",
          `window ${win.index}: target segment [${win.sourceSegmentPosition}, ${end}) is beyond the ${this.bytesProduced} bytes produced`,
        );
      }
      return this.history;
    }
    return null;
  }

  private async readSection(win: WindowHeader, kind: 0 | 1 | 2, length: number): Promise<Uint8Array> {
    const name = SECTION_NAMES[kind];
    const raw = await this.input.bytes(length, `window ${win.index}'s ${name}`);
    if (!(win.deltaIndicator & SECTION_BITS[kind])) return raw;
    const cursor = new Cursor(raw);
    const size = cursor.varint(`window ${win.index}'s compressed ${name} length`);
    if (size > this.maxWindowSize) {
      throw new VcdiffError(
        "limit_exceeded",
        `window ${win.index}: ${name} of ${size} bytes exceeds ${this.maxWindowSize}`,
      );
    }
    let decoder = this.xz[kind];
    if (!decoder) {
      decoder = new XzSectionDecoder({ maxDictSize: this.maxDictSize });
      this.xz[kind] = decoder;
    }
    let out: Uint8Array;
    try {
      out = decoder.decodeSection(raw.subarray(cursor.pos), size);
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

  varint(what: string): number {
    const buf = this.buf;
    let p = this.pos;
    let value = 0;
    for (let n = 0; n < 10; n++) {
      if (p >= this.end) throw new VcdiffError("invalid_format", `${what} runs past the end of its section`);
      const b = buf[p++];
      value = value * 128 + (b & 0x7f);
      if (b < 0x80) {
        if (value > MAX_VARINT) break;
        this.pos = p;
        return value;
      }
    }
    throw new VcdiffError("invalid_format", `${what}: malformed varint`);
  }
}

/** Copied source spans closer than this are read with one call rather than separately. */
const MERGE_GAP = 1024 * 1024;
/** Spans tracked per window; past this they are coalesced with a growing gap (fewer, wider reads). */
const MAX_SPANS = 1024;
const SMALL_COPY = 32;

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
  private gap = MERGE_GAP;
  /** Source pieces read for the current window (segment-relative start and bytes). */
  private pieceStart: number[] = [];
  private pieceData: Uint8Array[] = [];
  private lastPiece = 0;

  /** `maxSourceRead`: most source bytes one window may make us hold (hostile deltas can scatter copies). */
  constructor(private readonly maxSourceRead: number) {}

  async decodeWindow(
    win: WindowHeader,
    data: Uint8Array,
    inst: Uint8Array,
    addr: Uint8Array,
    segment: SourceReader | null,
  ): Promise<Uint8Array> {
    const segLen = segment ? win.sourceSegmentLength : 0;
    this.spanCount = 0;
    this.gap = MERGE_GAP;
    this.run(win, data, inst, addr, segLen, null);
    if (win.targetLength === 0) return new Uint8Array(0);
    try {
      if (segment && this.spanCount > 0) await this.readPieces(win, segment);
      const out = Buffer.allocUnsafe(win.targetLength);
      this.run(win, data, inst, addr, segLen, out);
      return out;
    } finally {
      this.pieceStart.length = 0;
      this.pieceData.length = 0;
    }
  }

  private async readPieces(win: WindowHeader, segment: SourceReader): Promise<void> {
    this.coalesce();
    let total = 0;
    for (let i = 0; i < this.spanCount; i++) total += this.spans[2 * i + 1] - this.spans[2 * i];
    if (total > this.maxSourceRead) {
      throw new VcdiffError(
        "limit_exceeded",
        `window ${win.index}: its copies would need ${total} source bytes in memory (limit ${this.maxSourceRead})`,
      );
    }
    for (let i = 0; i < this.spanCount; i++) {
      const start = this.spans[2 * i];
      const length = this.spans[2 * i + 1] - start;
      const offset = win.sourceSegmentPosition + start;
      const bytes = await segment.read(offset, length);
      if (bytes.length !== length) {
        throw new VcdiffError("invalid_format", `source read at ${offset} gave ${bytes.length} of ${length} bytes`);
      }
      this.pieceStart.push(start);
      this.pieceData.push(bytes);
    }
    this.lastPiece = 0;
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
  }

  /** The piece holding segment bytes [start, start + length); spans were merged so one always does. */
  private piece(start: number, length: number): number {
    let i = this.lastPiece;
    const starts = this.pieceStart;
    if (!(starts[i] <= start && start + length <= starts[i] + this.pieceData[i].length)) {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= start) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
      this.lastPiece = i;
    }
    return i;
  }

  private run(
    win: WindowHeader,
    data: Uint8Array,
    instBytes: Uint8Array,
    addrBytes: Uint8Array,
    segLen: number,
    out: Uint8Array | null,
  ): void {
    const inst = new Cursor(instBytes);
    const addr = new Cursor(addrBytes);
    const near = this.near;
    const same = this.same;
    near.fill(0);
    same.fill(0);
    let next = 0;
    const targetLength = win.targetLength;
    const dataEnd = data.length;
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
        if (size === 0) size = inst.varint("an instruction size");
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
          if (mode === 0) a = addr.varint("a COPY address");
          else if (mode === 1) a = here - addr.varint("a COPY address");
          else if (mode < 2 + NEAR_SIZE) a = near[mode - 2] + addr.varint("a COPY address");
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
          near[next] = a;
          next = (next + 1) % NEAR_SIZE;
          same[a % (SAME_SIZE * 256)] = a;
          let done = 0;
          if (a < segLen) {
            done = Math.min(size, segLen - a);
            if (done > 0) {
              if (out) this.copySource(out, op, a, done);
              else this.addSpan(a, a + done);
            }
          }
          if (out && done < size) copyTarget(out, a + done - segLen, op + done, size - done);
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

  private copySource(out: Uint8Array, op: number, a: number, size: number): void {
    const i = this.piece(a, size);
    const src = this.pieceData[i];
    const from = a - this.pieceStart[i];
    if (size < SMALL_COPY) for (let k = 0; k < size; k++) out[op + k] = src[from + k];
    else out.set(src.subarray(from, from + size), op);
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
