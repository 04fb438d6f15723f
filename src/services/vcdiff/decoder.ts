/**
 * The streaming VCDIFF decoder: reads the delta window by window and hands each to the Interpreter
 * (interpreter.ts), which copies from a SourceCache (source-cache.ts) over the caller's SourceReader.
 */
import { adler32Simd } from "./adler32-wasm.js";
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
import { Interpreter, type Section } from "./interpreter.js";
import { XzSectionDecoder } from "./lzma2.js";
import { Cursor } from "./section-cursor.js";
import { SourceCache } from "./source-cache.js";
import { bufferSource, type SourceReader } from "./source-reader.js";
import { TargetHistory } from "./target-history.js";

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
  /**
   * Target bytes in slices of `sliceSize` bytes (a window's last may be shorter; `windowEnd` marks it), each yielded
   * as soon as it is written, so the first bytes go out before a window's source is all read. Only for readers
   * opened with `verifyChecksum: false`: a window's Adler-32 can only be checked once it is complete. Every refusal
   * decode makes is made here, with the same error; one found in a window (bad instructions, a too-large window) is
   * thrown before that window's first slice, a failing source read after the slices before it. Each slice is a view
   * of the window buffer; without lookahead (the next window is read only when asked for). Use either this or
   * decode, once.
   */
  decodeSlices(source: SourceReader | null, sliceSize: number): AsyncGenerator<WindowSlice>;
  /** Window headers only, skipping section bytes (what `printhdr` shows). Use either this or decode, once. */
  windows(): AsyncGenerator<WindowHeader>;
  /** Stops reading the delta without decoding (after openVcdiff, when the caller decides not to decode). */
  close(): Promise<void>;
  /** Target bytes yielded so far; compare with the expected size to catch a delta cut at a window boundary. */
  readonly bytesProduced: number;
  readonly windowsDecoded: number;
}

/** A piece of a window's target bytes from VcdiffReader.decodeSlices. */
export interface WindowSlice {
  /** Never empty. A view of the window's buffer (the one allocateWindow supplied). */
  readonly bytes: Uint8Array;
  /** This is the window's last slice: the decoder will not write into its buffer again. */
  readonly windowEnd: boolean;
}

export const DEFAULT_MAX_WINDOW_SIZE = 64 * 1024 * 1024;
export const DEFAULT_MAX_TARGET_HISTORY = 8 * 1024 * 1024;

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

  async *decodeSlices(source: SourceReader | null, sliceSize: number): AsyncGenerator<WindowSlice> {
    this.claim();
    if (this.verifyChecksum) throw new Error("decodeSlices needs a reader opened with verifyChecksum: false");
    if (!(Number.isInteger(sliceSize) && sliceSize > 0)) throw new RangeError(`sliceSize ${sliceSize}`);
    const sourceCache = source ? new SourceCache(source, this.maxWindowSize) : null;
    try {
      for (let index = 0; ; index++) {
        const read = await this.readWindow(index, sourceCache);
        if (!read) return;
        const { win, data, inst, addr, segment } = read;
        const slices = this.interpreter.decodeWindowSliced(win, data, inst, addr, segment, sliceSize);
        try {
          let written = 0;
          let next = await slices.next();
          while (!next.done) {
            const bytes = next.value;
            written += bytes.length;
            this.bytesProduced += bytes.length;
            yield { bytes, windowEnd: written === win.targetLength };
            next = await slices.next();
          }
          this.history.push(next.value);
          this.windowsDecoded++;
        } finally {
          await slices.return(new Uint8Array(0));
        }
      }
    } finally {
      await this.input.close();
    }
  }

  /** Reads window `index`'s header and sections; null after the last window. */
  private async readWindow(index: number, sourceCache: SourceCache | null) {
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
    return { win, data, inst, addr, segment };
  }

  /** Decodes and verifies window `index` and adds it to the history; null after the last window. */
  private async decodeWindow(index: number, sourceCache: SourceCache | null): Promise<Uint8Array | null> {
    const read = await this.readWindow(index, sourceCache);
    if (!read) return null;
    const { win, data, inst, addr, segment } = read;
    const out = await this.interpreter.decodeWindow(win, data, inst, addr, segment);
    if (this.verifyChecksum && win.adler32 !== null) {
      const actual = adler32Simd(out);
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
