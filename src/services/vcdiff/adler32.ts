/** zlib's Adler-32 (RFC 1950). xdelta3 stores it per target window; an empty window gives 1. */
const MOD = 65521;
/**
 * Bytes summed between reductions. zlib uses 5552 (b < 2^32); 3800 keeps b < 2^31 so V8 stays in int32
 * arithmetic, which measured ~20% faster.
 */
const NMAX = 3800;

export function adler32(buf: Uint8Array, start = 0, end = buf.length, initial = 1): number {
  let a = initial & 0xffff;
  let b = (initial >>> 16) & 0xffff;
  let i = start;
  while (i < end) {
    const stop = Math.min(i + NMAX, end);
    const unrolledStop = stop - 7;
    for (; i < unrolledStop; i += 8) {
      a += buf[i];
      b += a;
      a += buf[i + 1];
      b += a;
      a += buf[i + 2];
      b += a;
      a += buf[i + 3];
      b += a;
      a += buf[i + 4];
      b += a;
      a += buf[i + 5];
      b += a;
      a += buf[i + 6];
      b += a;
      a += buf[i + 7];
      b += a;
    }
    for (; i < stop; i++) {
      a += buf[i];
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
