import { createHash } from "node:crypto";

/** Seeded xorshift PRNG: deterministic test data without fixtures on disk. */
export function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

export function randomBytesSeeded(size: number, seed: number): Buffer {
  const next = prng(seed);
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** A "release" of `size` bytes; version n differs from n-1 by a few scattered edits and an insert. */
export function releaseVersions(size: number, versions: number, seed = 7): Buffer[] {
  const next = prng(seed);
  const out: Buffer[] = [randomBytesSeeded(size, seed)];
  for (let v = 1; v < versions; v++) {
    const prev = Buffer.from(out[v - 1]);
    for (let e = 0; e < 8; e++) {
      const at = Math.floor(next() * (prev.length - 64));
      randomBytesSeeded(32, seed + v * 100 + e).copy(prev, at);
    }
    const at = Math.floor(next() * prev.length);
    out.push(Buffer.concat([prev.subarray(0, at), Buffer.from(`inserted in version ${v}`), prev.subarray(at)]));
  }
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
