import { VcdiffError } from "./errors.js";
import { readVarint, varintLength } from "./varint.js";

/** Hdr_Indicator bits. */
export const VCD_DECOMPRESS = 0x01;
export const VCD_CODETABLE = 0x02;
export const VCD_APPHEADER = 0x04;
/** Win_Indicator bits (VCD_ADLER32 is an xdelta3 extension). */
export const VCD_SOURCE = 0x01;
export const VCD_TARGET = 0x02;
export const VCD_ADLER32 = 0x04;
/** Delta_Indicator bits: which sections are secondary-compressed. */
export const VCD_DATACOMP = 0x01;
export const VCD_INSTCOMP = 0x02;
export const VCD_ADDRCOMP = 0x04;

export type SecondaryCompressor = "none" | "lzma" | "djw" | "fgk";

/** xdelta3's application header `target/Tc/source/Sc`; letters are G (gzip), B (bzip2), Y (xz), Z (compress) or "". */
export interface AppHeader {
  raw: Uint8Array;
  targetName: string;
  targetCompression: string;
  sourceName: string;
  sourceCompression: string;
}

export interface VcdiffHeader {
  hdrIndicator: number;
  secondary: SecondaryCompressor;
  appHeader: AppHeader | null;
  /** Bytes the file header occupies in the delta. */
  size: number;
}

export interface WindowHeader {
  index: number;
  /** Offset of the Win_Indicator byte in the delta. */
  offset: number;
  winIndicator: number;
  sourceSegmentLength: number;
  sourceSegmentPosition: number;
  deltaLength: number;
  targetLength: number;
  deltaIndicator: number;
  dataLength: number;
  instLength: number;
  addrLength: number;
  /** Expected Adler-32 of the window's target bytes, or null without VCD_ADLER32. */
  adler32: number | null;
}

const EMPTY = new Uint8Array(0);

/** Pull-based reader over a chunked delta stream; it only ever holds the chunk it is working through. */
export class DeltaInput {
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  /** The source, when it is a Node stream (it can be stopped even with a read pending). */
  private readonly stream: { destroy(): unknown } | null;
  private chunk: Uint8Array = EMPTY;
  private pos = 0;
  private done = false;
  private readonly scratch = new Uint8Array(10);
  /** Bytes consumed so far. */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    this.stream = asNodeStream(source);
  }

  /** True when every byte has been consumed and the stream has ended. */
  async atEnd(): Promise<boolean> {
    return this.pos >= this.chunk.length && !(await this.pull());
  }

  async byte(what: string): Promise<number> {
    if (this.pos >= this.chunk.length && !(await this.pull())) throw this.truncated(what);
    this.offset++;
    return this.chunk[this.pos++];
  }

  async varint(what: string): Promise<number> {
    const fast = readVarint(this.chunk, this.pos);
    if (fast) {
      this.offset += fast.next - this.pos;
      this.pos = fast.next;
      return fast.value;
    }
    // The varint straddles chunks: gather its bytes (at most 10) and let readVarint validate them.
    let n = 0;
    for (;;) {
      const b = await this.byte(what);
      this.scratch[n++] = b;
      if (b < 0x80 || n === this.scratch.length) break;
    }
    const value = readVarint(this.scratch, 0, n);
    if (!value) throw new VcdiffError("invalid_format", `${what}: malformed varint`);
    return value.value;
  }

  /** The next `length` bytes; a view into the current chunk when possible, else a fresh copy. */
  async bytes(length: number, what: string): Promise<Uint8Array> {
    if (length === 0) return EMPTY;
    if (this.pos >= this.chunk.length && !(await this.pull())) throw this.truncated(what);
    if (this.chunk.length - this.pos >= length) {
      const view = this.chunk.subarray(this.pos, this.pos + length);
      this.pos += length;
      this.offset += length;
      return view;
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (this.pos >= this.chunk.length && !(await this.pull())) throw this.truncated(what);
      const n = Math.min(length - filled, this.chunk.length - this.pos);
      out.set(this.chunk.subarray(this.pos, this.pos + n), filled);
      filled += n;
      this.pos += n;
      this.offset += n;
    }
    return out;
  }

  async skip(length: number, what: string): Promise<void> {
    let left = length;
    while (left > 0) {
      if (this.pos >= this.chunk.length && !(await this.pull())) throw this.truncated(what);
      const n = Math.min(left, this.chunk.length - this.pos);
      this.pos += n;
      this.offset += n;
      left -= n;
    }
  }

  /**
   * Destroys the underlying stream now if it is a Node stream, so that a read in progress fails instead of waiting
   * for data (its iterator's `return()` would wait). Other sources are stopped by `close()`.
   */
  abort(): void {
    if (!this.done) this.stream?.destroy();
  }

  /** Stops the underlying stream (for a Node Readable this destroys it). */
  async close(): Promise<void> {
    this.chunk = EMPTY;
    this.pos = 0;
    if (this.done) return;
    this.done = true;
    await this.iterator.return?.();
  }

  private async pull(): Promise<boolean> {
    while (!this.done) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        break;
      }
      if (next.value.length > 0) {
        this.chunk = next.value;
        this.pos = 0;
        return true;
      }
    }
    this.chunk = EMPTY;
    this.pos = 0;
    return false;
  }

  private truncated(what: string): VcdiffError {
    return new VcdiffError("truncated", `delta ends inside ${what} (offset ${this.offset})`);
  }
}

function asNodeStream(source: unknown): { destroy(): unknown } | null {
  return typeof (source as { destroy?: unknown }).destroy === "function" ? (source as { destroy(): unknown }) : null;
}

const MAGIC = [0xd6, 0xc3, 0xc4];
const COMPRESSION_LETTERS = new Set(["G", "B", "Y", "Z"]);

export async function readFileHeader(input: DeltaInput, maxAppHeaderSize: number): Promise<VcdiffHeader> {
  for (const expected of MAGIC) {
    if ((await input.byte("the magic")) !== expected) {
      throw new VcdiffError("invalid_format", "not a VCDIFF input (bad magic)");
    }
  }
  const version = await input.byte("the header");
  if (version !== 0) throw new VcdiffError("unsupported", `VCDIFF version ${version} (only 0 is supported)`);
  const hdrIndicator = await input.byte("the header");
  if (hdrIndicator & ~(VCD_DECOMPRESS | VCD_CODETABLE | VCD_APPHEADER)) {
    throw new VcdiffError("invalid_format", `unknown Hdr_Indicator bits 0x${hdrIndicator.toString(16)}`);
  }
  if (hdrIndicator & VCD_CODETABLE) throw new VcdiffError("unsupported", "custom code tables are not supported");
  let secondary: SecondaryCompressor = "none";
  if (hdrIndicator & VCD_DECOMPRESS) secondary = secondaryName(await input.byte("the header"));
  let appHeader: AppHeader | null = null;
  if (hdrIndicator & VCD_APPHEADER) {
    const length = await input.varint("the application header length");
    if (length > maxAppHeaderSize) {
      throw new VcdiffError("limit_exceeded", `application header of ${length} bytes exceeds ${maxAppHeaderSize}`);
    }
    // A copy (not a view, which Buffer#slice would give) so the header does not pin the input chunk.
    appHeader = parseAppHeader(new Uint8Array(await input.bytes(length, "the application header")));
  }
  return { hdrIndicator, secondary, appHeader, size: input.offset };
}

function secondaryName(id: number): SecondaryCompressor {
  switch (id) {
    case 2:
      return "lzma";
    case 1:
      throw new VcdiffError("unsupported", "DJW secondary compression is not supported");
    case 16:
      throw new VcdiffError("unsupported", "FGK secondary compression is not supported");
    default:
      throw new VcdiffError("invalid_format", `unknown secondary compressor id ${id}`);
  }
}

/** Like xdelta3: 2 or 4 `/`-separated fields are names and compression letters; anything else is opaque. */
export function parseAppHeader(raw: Uint8Array): AppHeader {
  const fields = new TextDecoder().decode(raw).split("/");
  const letter = (s: string | undefined) => (s !== undefined && COMPRESSION_LETTERS.has(s) ? s : "");
  const named = fields.length === 2 || fields.length === 4;
  return {
    raw,
    targetName: named ? fields[0] : "",
    targetCompression: named ? letter(fields[1]) : "",
    sourceName: fields.length === 4 ? fields[2] : "",
    sourceCompression: fields.length === 4 ? letter(fields[3]) : "",
  };
}

/** Reads the next window header; null at a clean end of the delta. Section sizes are checked before anything is allocated. */
export async function readWindowHeader(
  input: DeltaInput,
  index: number,
  maxWindowSize: number,
): Promise<WindowHeader | null> {
  if (await input.atEnd()) return null;
  const offset = input.offset;
  const winIndicator = await input.byte("a window header");
  if (winIndicator & ~(VCD_SOURCE | VCD_TARGET | VCD_ADLER32)) {
    throw new VcdiffError(
      "invalid_format",
      `window ${index}: unknown Win_Indicator bits 0x${winIndicator.toString(16)}`,
    );
  }
  if (winIndicator & VCD_SOURCE && winIndicator & VCD_TARGET) {
    throw new VcdiffError("invalid_format", `window ${index}: both VCD_SOURCE and VCD_TARGET are set`);
  }
  let sourceSegmentLength = 0;
  let sourceSegmentPosition = 0;
  if (winIndicator & (VCD_SOURCE | VCD_TARGET)) {
    sourceSegmentLength = await input.varint("a window header");
    sourceSegmentPosition = await input.varint("a window header");
  }
  const deltaLength = u32(index, "delta encoding length", await input.varint("a window header"));
  const targetLength = u32(index, "target window length", await input.varint("a window header"));
  if (targetLength > XD3_HARD_MAX_WINDOW) {
    throw new VcdiffError(
      "invalid_format",
      `window ${index}: target window of ${targetLength} bytes exceeds 16 MiB (xdelta3's hard window size)`,
    );
  }
  if (u32(index, "segment length", sourceSegmentLength) + targetLength > U32_MAX) {
    throw new VcdiffError("invalid_format", `window ${index}: segment plus target window exceed 2^32 - 1 bytes`);
  }
  checkLimit(index, "target window", targetLength, maxWindowSize);
  const deltaIndicator = await input.byte("a window header");
  if (deltaIndicator & ~(VCD_DATACOMP | VCD_INSTCOMP | VCD_ADDRCOMP)) {
    throw new VcdiffError(
      "invalid_format",
      `window ${index}: unknown Delta_Indicator bits 0x${deltaIndicator.toString(16)}`,
    );
  }
  const dataLength = checkLimit(index, "data section", await input.varint("a window header"), maxWindowSize);
  const instLength = checkLimit(index, "instruction section", await input.varint("a window header"), maxWindowSize);
  const addrLength = checkLimit(index, "address section", await input.varint("a window header"), maxWindowSize);
  const withChecksum = (winIndicator & VCD_ADLER32) !== 0;
  let adler32: number | null = null;
  if (winIndicator & VCD_ADLER32) {
    adler32 = 0;
    for (let i = 0; i < 4; i++) adler32 = adler32 * 256 + (await input.byte("a window checksum"));
  }
  // As xdelta3 checks it: from the minimal encodings of the four sizes (a padded varint makes it disagree).
  const expected =
    1 +
    varintLength(targetLength) +
    varintLength(dataLength) +
    varintLength(instLength) +
    varintLength(addrLength) +
    (withChecksum ? 4 : 0) +
    dataLength +
    instLength +
    addrLength;
  if (deltaLength !== expected) {
    throw new VcdiffError(
      "invalid_format",
      `window ${index}: delta encoding length ${deltaLength} does not match its contents (${expected})`,
    );
  }
  return {
    index,
    offset,
    winIndicator,
    sourceSegmentLength,
    sourceSegmentPosition,
    deltaLength,
    targetLength,
    deltaIndicator,
    dataLength,
    instLength,
    addrLength,
    adler32,
  };
}

/** xdelta3 3.0.11 refuses target windows above 2^24 bytes (XD3_HARDMAXWINSIZE). */
export const XD3_HARD_MAX_WINDOW = 1 << 24;
const U32_MAX = 0xffffffff;

/** Sizes are 32-bit (usize_t) in xdelta3 3.0.11: larger ones are refused. */
function u32(index: number, what: string, value: number): number {
  if (value > U32_MAX) throw new VcdiffError("invalid_format", `window ${index}: ${what} ${value} exceeds 2^32 - 1`);
  return value;
}

function checkLimit(index: number, what: string, length: number, max: number): number {
  if (length > max)
    throw new VcdiffError("limit_exceeded", `window ${index}: ${what} of ${length} bytes exceeds ${max}`);
  return length;
}
