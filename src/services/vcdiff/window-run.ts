import { ADD, DEFAULT_CODE_TABLE, NEAR_SIZE, NOOP, RUN, SAME_SIZE } from "./code-table.js";
import { copyTarget } from "./copy-target.js";
import { Cursor } from "./section-cursor.js";
import { SMALL_COPY, type SourceCache } from "./source-cache.js";

const { type1: TYPE1, size1: SIZE1, mode1: MODE1, type2: TYPE2, size2: SIZE2, mode2: MODE2 } = DEFAULT_CODE_TABLE;

/**
 * One window's instructions, executed in steps that may stop anywhere, even inside an instruction, so a window can
 * be written (and sent) a slice at a time. It checks nothing: Interpreter's scan has validated the whole window
 * before a WindowRun is made (control flow never depends on source bytes, so the same instructions cannot fail
 * here). A step without an output buffer only reports the source spans the step's copies read, so a second
 * WindowRun kept one step ahead tells which source spans to load before the writing one gets there.
 */
export class WindowRun {
  /** Target bytes produced so far (the next step starts here). */
  op = 0;
  private readonly inst: Cursor;
  private readonly addr: Cursor;
  private readonly near = new Float64Array(NEAR_SIZE);
  private readonly same = new Float64Array(SAME_SIZE * 256);
  private next = 0;
  private dp = 0;
  /** The code byte whose second instruction is still to run, or -1. */
  private pendingCode = -1;
  // The instruction in progress: its type, the bytes it has still to produce, and where the next byte comes from
  // (ADD: data offset; COPY: address in segment + target; RUN: the byte).
  private type = NOOP;
  private left = 0;
  private from = 0;

  constructor(
    instBytes: Uint8Array,
    addrBytes: Uint8Array,
    private readonly segLen: number,
    /** Absolute source offset of the segment. */
    private readonly segPos: number,
  ) {
    this.inst = new Cursor(instBytes);
    this.addr = new Cursor(addrBytes);
  }

  /**
   * Runs until `limit` target bytes are produced. With `out`, writes them (ADD/RUN bytes from `data`, copies from
   * `segment`, which must hold the spans this step reads); without, reports each source span it would read, as
   * segment-relative [start, end).
   */
  step(
    limit: number,
    data: Uint8Array,
    out: Uint8Array | null,
    segment: SourceCache | null,
    onSpan: (start: number, end: number) => void,
  ): void {
    let op = this.op;
    const segLen = this.segLen;
    while (op < limit) {
      if (this.left === 0) {
        this.decodeNext(op, data);
        continue; // a zero-size instruction still moves the address caches and the data offset
      }
      const n = Math.min(this.left, limit - op);
      const from = this.from;
      if (this.type === ADD) {
        if (out) {
          if (n < SMALL_COPY) for (let i = 0; i < n; i++) out[op + i] = data[from + i];
          else out.set(data.subarray(from, from + n), op);
        }
        this.from = from + n;
      } else if (this.type === RUN) {
        if (out) out.fill(from, op, op + n);
      } else {
        if (from < segLen) {
          if (out) (segment as SourceCache).copy(out, op, this.segPos + from, n);
          else onSpan(from, from + n);
        } else if (out) copyTarget(out, from - segLen, op, n);
        this.from = from + n;
      }
      this.left -= n;
      op += n;
    }
    this.op = op;
  }

  /** Decodes the next instruction (the scan made sure there is one) into type / left / from. */
  private decodeNext(op: number, data: Uint8Array): void {
    let type: number;
    let size: number;
    let mode: number;
    if (this.pendingCode >= 0) {
      const code = this.pendingCode;
      this.pendingCode = -1;
      type = TYPE2[code];
      size = SIZE2[code];
      mode = MODE2[code];
    } else {
      if (this.inst.pos >= this.inst.end) throw new Error("WindowRun: instructions ended early (not validated?)");
      const code = this.inst.buf[this.inst.pos++];
      type = TYPE1[code];
      size = SIZE1[code];
      mode = MODE1[code];
      if (TYPE2[code] !== NOOP) this.pendingCode = code;
    }
    if (size === 0) size = this.inst.u32("an instruction size");
    this.type = type;
    this.left = size;
    if (type === ADD) {
      this.from = this.dp;
      this.dp += size;
    } else if (type === RUN) {
      // Without `data` (a step that only finds spans, before the data section is decompressed) the byte is unused.
      this.from = data[this.dp] ?? 0;
      this.dp++;
    } else {
      const addr = this.addr;
      const here = this.segLen + op;
      let a: number;
      // As Interpreter.run: address arithmetic is modulo 2^32.
      if (mode === 0) a = addr.u32("a COPY address");
      else if (mode === 1) a = (here - addr.u32("a COPY address")) >>> 0;
      else if (mode < 2 + NEAR_SIZE) a = (this.near[mode - 2] + addr.u32("a COPY address")) >>> 0;
      else a = this.same[(mode - 2 - NEAR_SIZE) * 256 + addr.buf[addr.pos++]];
      this.near[this.next] = a;
      this.next = (this.next + 1) % NEAR_SIZE;
      this.same[a % (SAME_SIZE * 256)] = a;
      this.from = a;
    }
  }
}
