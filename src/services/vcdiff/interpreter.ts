import { ADD, DEFAULT_CODE_TABLE, NEAR_SIZE, NOOP, RUN, SAME_SIZE } from "./code-table.js";
import { copyTarget } from "./copy-target.js";
import { VcdiffError } from "./errors.js";
import type { WindowHeader } from "./header.js";
import { Cursor } from "./section-cursor.js";
import { MERGE_GAP, NO_BYTES, SMALL_COPY, type SourceCache } from "./source-cache.js";
import { WindowRun } from "./window-run.js";

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
    this.resetSpans();
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

  /**
   * Decodes a window a slice at a time: yields views of the window buffer, `sliceSize` bytes each (the last may be
   * shorter), each as soon as it is written, and returns the whole window. Everything the instructions can get wrong
   * is refused before the first slice, as decodeWindow refuses it (same scan, same errors); what can still fail
   * after a slice went out is a source read (the same error decodeWindow would throw, later). Each slice's source
   * spans are read just before it is written; the next slice's while the consumer handles this one. The window's
   * Adler-32 is not checked (the caller must not want it: bytes go out before the window is complete).
   */
  async *decodeWindowSliced(
    win: WindowHeader,
    data: Section,
    inst: Uint8Array,
    addr: Uint8Array,
    segment: SourceCache | null,
    sliceSize: number,
  ): AsyncGenerator<Uint8Array, Uint8Array> {
    const segLen = segment ? win.sourceSegmentLength : 0;
    this.resetSpans();
    this.run(win, NO_BYTES, data.size, inst, addr, segLen, segment, null);
    // The whole window's limit, as decodeWindow enforces it: before anything is read, reported after the data
    // section's own errors (as there).
    let tooMuch: unknown = null;
    if (segment && this.spanCount > 0) {
      try {
        this.checkSourceBytes(win);
      } catch (error) {
        tooMuch = error;
      }
    }
    const targetLength = win.targetLength;
    const scout = new WindowRun(inst, addr, segLen, win.sourceSegmentPosition);
    const writer = new WindowRun(inst, addr, segLen, win.sourceSegmentPosition);
    // Loads the spans of the slice ending at `limit`, found by the scout, which runs one slice ahead of the writer.
    const loadSlice = (limit: number): Promise<void> | null => {
      this.resetSpans();
      scout.step(limit, NO_BYTES, null, null, this.onSpan);
      if (!segment || this.spanCount === 0) return null;
      const loading = this.load(win, segment);
      loading.catch(() => {}); // awaited below; this only stops an early failure being reported as unhandled
      return loading;
    };
    let loading = tooMuch ? null : loadSlice(Math.min(targetLength, sliceSize));
    try {
      // Decompress the data section (most of the LZMA work) while the first slice's source is read.
      const bytes = data.bytes();
      if (tooMuch) throw tooMuch;
      await loading;
      loading = null;
      if (targetLength === 0) return new Uint8Array(0);
      const out = await this.windowBuffer(targetLength);
      for (let start = 0; start < targetLength; ) {
        const limit = Math.min(targetLength, start + sliceSize);
        await loading;
        loading = null;
        writer.step(limit, bytes, out, segment, this.onSpan);
        if (limit < targetLength) loading = loadSlice(Math.min(targetLength, limit + sliceSize));
        yield out.subarray(start, limit);
        start = limit;
      }
      segment?.finish();
      return out;
    } finally {
      // No read may outlive this generator (the caller may release the source then), even when it stopped early.
      await loading?.catch(() => {});
    }
  }

  private readonly onSpan = (start: number, end: number): void => this.addSpan(start, end);

  private resetSpans(): void {
    this.spanCount = 0;
    this.sortedCount = 0;
    this.gap = MERGE_GAP;
  }

  private async windowBuffer(length: number): Promise<Uint8Array> {
    const buffer = await this.allocate(length);
    if (buffer.length < length) throw new RangeError(`allocateWindow returned ${buffer.length} bytes for ${length}`);
    return buffer.length === length ? buffer : buffer.subarray(0, length);
  }

  private async load(win: WindowHeader, segment: SourceCache): Promise<void> {
    this.checkSourceBytes(win);
    for (let i = 0; i < 2 * this.spanCount; i++) this.spans[i] += win.sourceSegmentPosition;
    await segment.load(this.spans, this.spanCount, win.index);
  }

  /** Coalesces the spans and refuses them when they add up to more than maxSourceRead. */
  private checkSourceBytes(win: WindowHeader): void {
    this.coalesce();
    let total = 0;
    for (let i = 0; i < this.spanCount; i++) total += this.spans[2 * i + 1] - this.spans[2 * i];
    if (total > this.maxSourceRead) {
      throw new VcdiffError(
        "limit_exceeded",
        `window ${win.index}: its copies would need ${total} source bytes in memory (limit ${this.maxSourceRead})`,
      );
    }
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
