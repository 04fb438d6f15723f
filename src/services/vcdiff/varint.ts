import { VcdiffError } from "./errors.js";

/**
 * RFC 3284 variable-length integers: big-endian base-128, high bit = more bytes follow.
 * Values are built with multiplication because `<<` overflows past 2^31 (source positions can be 64-bit).
 */
export const MAX_VARINT = Number.MAX_SAFE_INTEGER;

export interface VarintResult {
  value: number;
  /** Offset just past the varint. */
  next: number;
}

/** Reads a varint at `offset`; returns null when the buffer ends before the varint does. */
export function readVarint(buf: Uint8Array, offset: number, end = buf.length): VarintResult | null {
  let value = 0;
  for (let p = offset; p < end; p++) {
    const byte = buf[p];
    value = value * 128 + (byte & 0x7f);
    if (value > MAX_VARINT) throw new VcdiffError("invalid_format", "varint exceeds 2^53");
    if ((byte & 0x80) === 0) return { value, next: p + 1 };
    if (p - offset >= 9) throw new VcdiffError("invalid_format", "varint longer than 9 bytes");
  }
  return null;
}

export function varintLength(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes `value` at `offset`; returns the offset just past it. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
  const len = varintLength(value);
  let v = value;
  for (let i = len - 1; i >= 0; i--) {
    out[offset + i] = (v % 128) | (i === len - 1 ? 0 : 0x80);
    v = Math.floor(v / 128);
  }
  return offset + len;
}

export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}
