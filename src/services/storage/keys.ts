import { GliderError } from "../errors.js";

const MAX_KEY_BYTES = 1024;

/**
 * Orders keys by UTF-8 bytes, as S3 does. JS `<` compares UTF-16 units, which misorders surrogate pairs against
 * U+E000..U+FFFF; shifting those two ranges makes unit order equal code point order (= UTF-8 byte order).
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x += x <= 0xdfff ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y <= 0xdfff ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** S3 bucket naming rules (general purpose buckets). */
export function assertValidBucketName(bucket: string): void {
  const ok =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) &&
    !bucket.includes("..") &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(bucket) &&
    !bucket.startsWith("xn--") &&
    !bucket.startsWith("sthree-") &&
    !bucket.endsWith("-s3alias") &&
    !bucket.endsWith("--ol-s3");
  if (!ok) {
    throw new GliderError(
      "invalid_bucket_name",
      `invalid bucket name "${bucket}": 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit`,
      { bucket },
    );
  }
}

/** Rules every backend shares: a key is 1..1024 UTF-8 bytes and holds no NUL. */
export function assertValidKey(key: string): void {
  if (key.length === 0) throw new GliderError("invalid_key", "key must not be empty", { key });
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new GliderError("invalid_key", `key longer than ${MAX_KEY_BYTES} bytes`, { key });
  }
  if (key.includes("\0")) throw new GliderError("invalid_key", "key contains a NUL character", { key });
}

export function clampMaxKeys(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return 1000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new GliderError("invalid_request", "maxKeys must be an integer from 1 to 1000", { maxKeys });
  }
  return Math.min(maxKeys, 1000);
}
