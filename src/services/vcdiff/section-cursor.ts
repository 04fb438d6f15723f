import { VcdiffError } from "./errors.js";

/** A read position in a section. A class (not readVarint's result objects) so the hot loop allocates nothing. */
export class Cursor {
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
