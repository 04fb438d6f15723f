/**
 * VCDIFF (RFC 3284) encoder whose output `xdelta3 -d -s source` decodes: default code table, xdelta3's LZMA
 * secondary compression of the sections where it pays (optional), optional xdelta3 application header and per-window
 * Adler-32. COPYs may reach anywhere in the
 * source: each window declares exactly the source range its COPYs use.
 */
import { VcdiffError } from "./errors.js";
import { InstructionList, WindowWriter } from "./instruction-writer.js";
import { SourceIndex } from "./match-index.js";
import { WindowMatcher } from "./matcher.js";
import { varintLength, writeVarint } from "./varint.js";
import { LZMA_SECONDARY_ID, XzSectionWriter } from "./xz-section.js";

export interface EncodeOptions {
  /** Target window size; default 8 MiB; must be ≤ 16 MiB (xdelta3 -d refuses larger). */
  windowSize?: number;
  /** Emit VCD_ADLER32 per window (default true). */
  checksum?: boolean;
  /** xdelta3-style application header, e.g. "name//reference.bin/"; null/undefined = none. */
  appHeader?: Uint8Array | string | null;
  /**
   * Secondary compression of each window's sections: "lzma" as `xdelta3 -e` writes it (a section is compressed only
   * when that makes it smaller), or "none" (Delta_Indicator 0 throughout, no VCD_DECOMPRESS in the header).
   * @default "lzma"
   */
  secondary?: "lzma" | "none";
}

export const DEFAULT_WINDOW_SIZE = 8 * 1024 * 1024;
export const MAX_WINDOW_SIZE = 16 * 1024 * 1024;

const MAGIC = [0xd6, 0xc3, 0xc4, 0x00];
const VCD_DECOMPRESS = 0x01;
const VCD_APPHEADER = 0x04;

/**
 * Synchronous core (usable from a worker): indexes the source on the first window, then encodes target windows
 * one at a time. Output = header() followed by encodeWindow() of each window in order, at least one window.
 * The source is used in place and must not change while encoding.
 */
export class VcdiffEncoder {
  readonly windowSize: number;
  private readonly checksum: boolean;
  private readonly appHeader: Uint8Array | null;
  private readonly source: Uint8Array | null;
  private matcher: WindowMatcher | null = null;
  private readonly writer: WindowWriter;
  private readonly lzma: boolean;
  private readonly list = new InstructionList();

  constructor(source: Uint8Array | null, options: EncodeOptions = {}) {
    const windowSize = options.windowSize ?? DEFAULT_WINDOW_SIZE;
    if (!Number.isSafeInteger(windowSize) || windowSize < 1 || windowSize > MAX_WINDOW_SIZE) {
      throw new RangeError(`windowSize must be an integer in [1, ${MAX_WINDOW_SIZE}], got ${windowSize}`);
    }
    this.windowSize = windowSize;
    this.checksum = options.checksum ?? true;
    const app = options.appHeader;
    this.appHeader = app == null ? null : typeof app === "string" ? new TextEncoder().encode(app) : app;
    this.source = source && source.length > 0 ? source : null;
    const secondary = options.secondary ?? "lzma";
    if (secondary !== "lzma" && secondary !== "none") {
      throw new RangeError(`secondary must be "lzma" or "none", got ${String(secondary)}`);
    }
    this.lzma = secondary === "lzma";
    this.writer = new WindowWriter(this.lzma ? new XzSectionWriter() : null);
  }

  header(): Uint8Array {
    const app = this.appHeader;
    const out = new Uint8Array(5 + (this.lzma ? 1 : 0) + (app ? varintLength(app.length) + app.length : 0));
    out.set(MAGIC);
    let p = 5;
    if (this.lzma) {
      out[4] |= VCD_DECOMPRESS;
      out[p++] = LZMA_SECONDARY_ID;
    }
    if (app) {
      out[4] |= VCD_APPHEADER;
      p = writeVarint(out, p, app.length);
      out.set(app, p);
    }
    return out;
  }

  /** Encodes one window of at most `windowSize` bytes; `target` is not retained. */
  encodeWindow(target: Uint8Array): Uint8Array {
    if (target.length > this.windowSize) {
      throw new VcdiffError("limit_exceeded", `window of ${target.length} bytes exceeds windowSize ${this.windowSize}`);
    }
    this.matcher ??= new WindowMatcher(this.source ? new SourceIndex(this.source) : null);
    const segment = this.matcher.match(target, this.list);
    return this.writer.encode(target, this.list, segment, this.checksum);
  }
}

/** Encodes `target` against `source` (null or empty = no source) as one VCDIFF delta. */
export function encodeVcdiffBuffer(source: Uint8Array | null, target: Uint8Array, options?: EncodeOptions): Uint8Array {
  return concat([...bufferWindows(new VcdiffEncoder(source, options), target)]);
}

/**
 * Streams the delta of `target` (any chunking) against `source`: the header, then one chunk per window.
 * Options are validated before the first chunk is requested; memory is about one window plus the source index.
 */
export function encodeVcdiff(
  source: Uint8Array | null,
  target: AsyncIterable<Uint8Array> | Uint8Array,
  options?: EncodeOptions,
): AsyncGenerator<Uint8Array> {
  const encoder = new VcdiffEncoder(source, options);
  return target instanceof Uint8Array ? toAsync(bufferWindows(encoder, target)) : streamWindows(encoder, target);
}

function* bufferWindows(encoder: VcdiffEncoder, target: Uint8Array): Generator<Uint8Array> {
  yield encoder.header();
  const size = encoder.windowSize;
  let offset = 0;
  do {
    yield encoder.encodeWindow(target.subarray(offset, offset + size));
    offset += size;
  } while (offset < target.length);
}

async function* toAsync(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

async function* streamWindows(encoder: VcdiffEncoder, target: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield encoder.header();
  const size = encoder.windowSize;
  let buf = new Uint8Array(Math.min(size, 64 * 1024));
  let fill = 0;
  let windows = 0;
  for await (const chunk of target) {
    let offset = 0;
    while (offset < chunk.length) {
      if (fill === buf.length && buf.length < size) {
        const grown = new Uint8Array(Math.min(size, buf.length * 4));
        grown.set(buf);
        buf = grown;
      }
      const n = Math.min(buf.length - fill, chunk.length - offset);
      buf.set(chunk.subarray(offset, offset + n), fill);
      fill += n;
      offset += n;
      if (fill === size) {
        yield encoder.encodeWindow(buf);
        windows++;
        fill = 0;
      }
    }
  }
  if (fill > 0 || windows === 0) yield encoder.encodeWindow(buf.subarray(0, fill));
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
