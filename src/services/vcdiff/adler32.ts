/** zlib's Adler-32 (RFC 1950). xdelta3 stores it per target window; an empty window gives 1. */
const MOD = 65521;
/** Bytes summed bytewise between reductions: b stays below 2^31, so V8 keeps to int32 arithmetic. */
const NMAX = 3800;
/**
 * Words per block in the word loop. Its lane sums must fit 16 bits: the running sum of k words' bytes reaches
 * 255 * k, and its prefix sum 255 * k * (k + 1) / 2, which is 64515 for k = 22.
 */
const BLOCK_WORDS = 22;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function adler32(buf: Uint8Array, start = 0, end = buf.length, initial = 1): number {
  let a = initial & 0xffff;
  let b = (initial >>> 16) & 0xffff;
  let i = start;
  // Little-endian: bytewise up to a 4-byte boundary, then whole words. Then (or else) the rest bytewise.
  if (LITTLE_ENDIAN && start + 4 * BLOCK_WORDS + 3 <= end) {
    const head = i + ((4 - ((buf.byteOffset + i) & 3)) & 3);
    for (; i < head; i++) {
      a += buf[i];
      b += a;
    }
    const words = new Uint32Array(buf.buffer, buf.byteOffset + i, (end - i) >>> 2);
    [a, b] = sumWords(words, a % MOD, b % MOD);
    i += 4 * words.length;
  }
  while (i < end) {
    const stop = Math.min(i + NMAX, end);
    for (; i < stop; i++) {
      a += buf[i];
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b % MOD) * 65536 + (a % MOD)) >>> 0;
}

/**
 * Adds little-endian words to the sums, two bytes per 16-bit lane (SWAR): `even` holds bytes 0 and 2 of each word,
 * `odd` bytes 1 and 3. Over a block of k words starting with sums (a, b), byte c of word j (both from 0) is the
 * (4j + c + 1)th byte, so it adds (4(k - j) - c) times itself to b. Per lane, the prefix sums t add up
 * Σ (k - j) x_j, and the lane sums s give Σ x_j; so b grows by 4k·a + 4·Σt - (s1 + 2·s2 + 3·s3) and a by Σs.
 */
function sumWords(words: Uint32Array, a: number, b: number): [number, number] {
  const n = words.length;
  let w = 0;
  while (w < n) {
    const stop = Math.min(w + BLOCK_WORDS, n);
    const k = stop - w;
    let even = 0;
    let odd = 0;
    let evenT = 0;
    let oddT = 0;
    for (; w < stop; w++) {
      const x = words[w];
      even = (even + (x & 0x00ff00ff)) | 0;
      odd = (odd + ((x >>> 8) & 0x00ff00ff)) | 0;
      // These may wrap past 2^31 (int32 arithmetic), but stay below 2^32, so `>>> 16` still reads the high lane.
      evenT = (evenT + even) | 0;
      oddT = (oddT + odd) | 0;
    }
    const s0 = even & 0xffff;
    const s2 = even >>> 16;
    const s1 = odd & 0xffff;
    const s3 = odd >>> 16;
    const t = (evenT & 0xffff) + (evenT >>> 16) + (oddT & 0xffff) + (oddT >>> 16);
    b += 4 * k * a + 4 * t - (s1 + 2 * s2 + 3 * s3);
    a += s0 + s1 + s2 + s3;
    // Reducing once b passes 2^29 keeps a and b (and the terms above) below 2^31: int32 arithmetic again.
    if (b >= 0x20000000) {
      a %= MOD;
      b %= MOD;
    }
  }
  return [a % MOD, b % MOD];
}
