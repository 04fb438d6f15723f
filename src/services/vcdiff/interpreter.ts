import { ADD, DEFAULT_CODE_TABLE, NEAR_SIZE, NOOP, RUN, SAME_SIZE } from "./code-table.js";
import { VcdiffError } from "./errors.js";
import type { WindowHeader } from "./header.js";
import { Cursor } from "./section-cursor.js";
import { MERGE_GAP, NO_BYTES, SMALL_COPY, type SourceCache } from "./source-cache.js";

/** Spans tracked per window; past this they are coalesced with a growing gap (fewer, wider reads). */
const MAX_SPANS = 1024;

/**
 * A section of `size` (decompressed) bytes. `bytes()` decompresses an LZMA-coded one; call it exactly once per
 * section, in delta order per section kind (the LZMA state carries over from window to window).
 */
export interface Section {
  readonly size: number;
  bytes(): Uint8Array;
}

const { type1: TYPE1, size1: SIZE1, mode1: MODE1, type2: TYPE2, size2: SIZE2, mode2: MODE2 } = DEFAULT_CODE_TABLE;

/**
 * Runs a window's instructions twice: a scan that validates everything and finds which source ranges are copied
 * (so only those are read), then the pass that writes the target. Control flow never depends on source bytes, so
 * the second pass cannot fail where the first succeeded.
 */
export class Interpreter {
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
