/**
 * Turns one window's instruction list into VCDIFF window bytes: default code table (including the double
 * ADD+COPY / COPY+ADD codes), near/same address caches, optional LZMA secondary compression of the sections.
 */
import { adler32 } from "./adler32.js";
import { ADD, COPY, DEFAULT_CODE_TABLE, NEAR_SIZE, NOOP, RUN, SAME_SIZE } from "./code-table.js";
import { varintLength, writeVarint } from "./varint.js";
import type { XzSectionWriter } from "./xz-section.js";

export { ADD, COPY, RUN };

/** Win_Indicator bits. */
export const VCD_SOURCE = 0x01;
export const VCD_ADLER32 = 0x04;

/** Window instructions in target order. */
export class InstructionList {
  count = 0;
  kind = new Uint8Array(1024);
  size = new Int32Array(1024);
  /** ADD/RUN: offset of the bytes in the window. COPY: source position, or -1 - window offset for a target copy. */
  where = new Float64Array(1024);

  push(kind: number, size: number, where: number): void {
    if (this.count === this.kind.length) this.grow();
    const i = this.count++;
    this.kind[i] = kind;
    this.size[i] = size;
    this.where[i] = where;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    const size = new Int32Array(n);
    size.set(this.size);
    const where = new Float64Array(n);
    where.set(this.where);
    this.kind = kind;
    this.size = size;
    this.where = where;
  }
}

// Code lookup tables derived from the shared default table. Sizes index up to MAX_SIZE - 1.
const MAX_SIZE = 19;
const MODES = 2 + NEAR_SIZE + SAME_SIZE;
const addCode = new Int16Array(MAX_SIZE).fill(-1);
const copyCode = new Int16Array(MODES * MAX_SIZE).fill(-1);
/** ADD(a) then COPY(c) in mode m: index (m * MAX_SIZE + a) * MAX_SIZE + c. */
const addCopyCode = new Int16Array(MODES * MAX_SIZE * MAX_SIZE).fill(-1);
/** COPY(c) in mode m then ADD(a): same indexing. */
const copyAddCode = new Int16Array(MODES * MAX_SIZE * MAX_SIZE).fill(-1);
let runCode = -1;
{
  const { type1, size1, mode1, type2, size2, mode2 } = DEFAULT_CODE_TABLE;
  for (let code = 0; code < 256; code++) {
    if (type2[code] === NOOP) {
      if (type1[code] === RUN && size1[code] === 0) runCode = code;
      else if (type1[code] === ADD) addCode[size1[code]] = code;
      else if (type1[code] === COPY) copyCode[mode1[code] * MAX_SIZE + size1[code]] = code;
    } else if (type1[code] === ADD && type2[code] === COPY) {
      addCopyCode[(mode2[code] * MAX_SIZE + size1[code]) * MAX_SIZE + size2[code]] = code;
    } else if (type1[code] === COPY && type2[code] === ADD) {
      copyAddCode[(mode1[code] * MAX_SIZE + size2[code]) * MAX_SIZE + size1[code]] = code;
    }
  }
}

class ByteSink {
  buf = new Uint8Array(4096);
  len = 0;

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len === this.buf.length) this.reserve(1);
    this.buf[this.len++] = b;
  }

  varint(v: number): void {
    this.reserve(10);
    this.len = writeVarint(this.buf, this.len, v);
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    this.buf.set(src.subarray(start, end), this.len);
    this.len += end - start;
  }
}

export interface WindowSegment {
  /** Absolute source position of the segment, and its length (0 = no VCD_SOURCE). */
  position: number;
  length: number;
}

/** Sections shorter than this are never compressed (the XZ headers alone take 24 bytes). */
const MIN_SECONDARY_INPUT = 48;
const MIN_SECONDARY_SAVING = 8;
/** Bytes of each of four samples of a large data section that must shrink by 3 % before it is compressed. */
const SECONDARY_SAMPLE = 16 * 1024;

/** Encodes windows; reuses its section buffers across windows. */
export class WindowWriter {
  /** LZMA secondary compression of the sections (null: none, Delta_Indicator 0). */
  private readonly secondary: XzSectionWriter | null;

  constructor(secondary: XzSectionWriter | null = null) {
    this.secondary = secondary;
  }

  private readonly data = new ByteSink();
  private readonly inst = new ByteSink();
  private readonly addr = new ByteSink();
  private readonly near = new Float64Array(NEAR_SIZE);
  private nextNear = 0;
  private readonly same = new Float64Array(SAME_SIZE * 256);
  private segPos = 0;
  private segLen = 0;
  /** Bytes of the window produced so far. */
  private pos = 0;

  encode(target: Uint8Array, list: InstructionList, segment: WindowSegment, checksum: boolean): Uint8Array {
    this.data.len = this.inst.len = this.addr.len = 0;
    this.near.fill(0);
    this.nextNear = 0;
    this.same.fill(0);
    this.segPos = segment.position;
    this.segLen = segment.length;
    const { kind, size, where, count } = list;
    this.pos = 0;
    let i = 0;
    while (i < count) {
      const k = kind[i];
      const s = size[i];
      if (k !== COPY && where[i] !== this.pos) {
        throw encoderBug(`${k === ADD ? "ADD" : "RUN"} of window bytes at ${where[i]} emitted at ${this.pos}`);
      }
      if (k === RUN) {
        this.inst.byte(runCode);
        this.inst.varint(s);
        this.data.byte(target[where[i]]);
        this.pos += s;
        i++;
      } else if (k === ADD) {
        this.data.bytes(target, where[i], where[i] + s);
        const j = i + 1;
        if (j < count && kind[j] === COPY && s < MAX_SIZE) {
          const mode = this.address(where[j], size[j], this.pos + s);
          const c = size[j];
          const code = c < MAX_SIZE ? addCopyCode[(mode * MAX_SIZE + s) * MAX_SIZE + c] : -1;
          if (code >= 0) {
            this.inst.byte(code);
            this.pos += s + c;
            i = j + 1;
          } else {
            this.single(ADD, s, 0);
            this.pos += s;
            i = this.copy(target, list, j, mode);
          }
        } else {
          this.single(ADD, s, 0);
          this.pos += s;
          i = j;
        }
      } else {
        i = this.copy(target, list, i, this.address(where[i], s, this.pos));
      }
    }
    if (this.pos !== target.length) {
      throw encoderBug(`instructions produce ${this.pos} bytes for a ${target.length}-byte window`);
    }
    return this.assemble(target, checksum);
  }

  /** Emits the COPY at i (address already written), merged with a following ADD when a code exists. */
  private copy(target: Uint8Array, list: InstructionList, i: number, mode: number): number {
    const c = list.size[i];
    this.pos += c;
    const j = i + 1;
    if (j < list.count && list.kind[j] === ADD && c < MAX_SIZE) {
      const a = list.size[j];
      const code = a < MAX_SIZE ? copyAddCode[(mode * MAX_SIZE + a) * MAX_SIZE + c] : -1;
      if (code >= 0) {
        if (list.where[j] !== this.pos)
          throw encoderBug(`ADD of window bytes at ${list.where[j]} emitted at ${this.pos}`);
        this.inst.byte(code);
        this.data.bytes(target, list.where[j], list.where[j] + a);
        this.pos += a;
        return j + 1;
      }
    }
    this.single(COPY, c, mode);
    return j;
  }

  private single(type: number, s: number, mode: number): void {
    const table = type === ADD ? addCode : copyCode;
    const base = type === ADD ? 0 : mode * MAX_SIZE;
    const code = s < MAX_SIZE ? table[base + s] : -1;
    if (code >= 0) {
      this.inst.byte(code);
    } else {
      this.inst.byte(table[base]);
      this.inst.varint(s);
    }
  }

  /** Writes the cheapest address encoding of a COPY (SELF, HERE, NEAR, SAME), updates the caches, returns the mode. */
  private address(where: number, size: number, pos: number): number {
    const a = where >= 0 ? where - this.segPos : this.segLen - 1 - where;
    const here = this.segLen + pos;
    // The matcher's invariants, checked on every COPY (two compares): an address reads only bytes before `here`
    // (RFC 3284 §5.3; xdelta3 -d refuses others with "address too large"), and a source COPY stays inside the
    // window's declared segment (a COPY that crosses into the target would read different bytes).
    if (!(a >= 0 && a < here) || (where >= 0 && a + size > this.segLen)) {
      throw encoderBug(`COPY of ${size} bytes at address ${a} (here ${here}, source segment ${this.segLen} bytes)`);
    }
    let mode = 0;
    let value = a;
    let cost = varintLength(a);
    const d = here - a;
    if (varintLength(d) < cost) {
      mode = 1;
      value = d;
      cost = varintLength(d);
    }
    for (let n = 0; n < NEAR_SIZE; n++) {
      const dn = a - this.near[n];
      if (dn >= 0 && varintLength(dn) < cost) {
        mode = 2 + n;
        value = dn;
        cost = varintLength(dn);
      }
    }
    const slot = a % (SAME_SIZE * 256);
    if (cost > 1 && this.same[slot] === a) {
      mode = 2 + NEAR_SIZE + Math.floor(slot / 256);
      this.addr.byte(slot % 256);
    } else {
      this.addr.varint(value);
    }
    this.near[this.nextNear] = a;
    this.nextNear = (this.nextNear + 1) % NEAR_SIZE;
    this.same[slot] = a;
    return mode;
  }

  private assemble(target: Uint8Array, checksum: boolean): Uint8Array {
    const sections: Uint8Array[] = [
      this.data.buf.subarray(0, this.data.len),
      this.inst.buf.subarray(0, this.inst.len),
      this.addr.buf.subarray(0, this.addr.len),
    ];
    let deltaIndicator = 0;
    if (this.secondary) {
      for (const kind of [0, 1, 2] as const) {
        const packed = this.compressSection(this.secondary, kind, sections[kind]);
        if (packed) {
          sections[kind] = packed;
          deltaIndicator |= 1 << kind; // VCD_DATACOMP, VCD_INSTCOMP, VCD_ADDRCOMP
        }
      }
    }
    const [data, inst, addr] = sections;
    const useSource = this.segLen > 0;
    const deltaLen =
      varintLength(target.length) +
      1 +
      varintLength(data.length) +
      varintLength(inst.length) +
      varintLength(addr.length) +
      (checksum ? 4 : 0) +
      data.length +
      inst.length +
      addr.length;
    const headLen =
      1 + (useSource ? varintLength(this.segLen) + varintLength(this.segPos) : 0) + varintLength(deltaLen);
    const out = new Uint8Array(headLen + deltaLen);
    out[0] = (useSource ? VCD_SOURCE : 0) | (checksum ? VCD_ADLER32 : 0);
    let p = 1;
    if (useSource) {
      p = writeVarint(out, p, this.segLen);
      p = writeVarint(out, p, this.segPos);
    }
    p = writeVarint(out, p, deltaLen);
    p = writeVarint(out, p, target.length);
    out[p++] = deltaIndicator;
    p = writeVarint(out, p, data.length);
    p = writeVarint(out, p, inst.length);
    p = writeVarint(out, p, addr.length);
    if (checksum) {
      const sum = adler32(target);
      out[p++] = sum >>> 24;
      out[p++] = (sum >>> 16) & 0xff;
      out[p++] = (sum >>> 8) & 0xff;
      out[p++] = sum & 0xff;
    }
    for (const section of sections) {
      out.set(section, p);
      p += section.length;
    }
    return out;
  }

  /**
   * LZMA-compresses one section when that saves at least MIN_SECONDARY_SAVING bytes. A large data section is first
   * tried on a sample: literal bytes of new compressed members do not shrink, and coding them all would cost time.
   */
  private compressSection(xz: XzSectionWriter, kind: 0 | 1 | 2, bytes: Uint8Array): Uint8Array | null {
    if (bytes.length < MIN_SECONDARY_INPUT) return null;
    if (kind === 0 && bytes.length > 4 * SECONDARY_SAMPLE) {
      let packed = 0;
      for (let part = 0; part < 4; part++) {
        const at = Math.floor((part * (bytes.length - SECONDARY_SAMPLE)) / 3);
        packed += xz.packedSize(bytes.subarray(at, at + SECONDARY_SAMPLE));
      }
      if (packed > 0.97 * 4 * SECONDARY_SAMPLE) return null;
    }
    return xz.compress(kind, bytes, MIN_SECONDARY_SAVING);
  }
}

/** A broken encoder invariant: never a property of the input, always a bug (callers fall back to storing whole). */
export class EncoderInvariantError extends Error {
  override readonly name = "EncoderInvariantError";
}

function encoderBug(message: string): EncoderInvariantError {
  return new EncoderInvariantError(`VCDIFF encoder invariant broken: ${message}`);
}
