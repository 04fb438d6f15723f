import { GliderError } from "../errors.js";
import { assertValidKey } from "./keys.js";

/**
 * How keys map onto the filesystem store's folders. Each `/`-separated segment becomes a folder or file name,
 * escaped so that no name can leave the bucket folder, collide with the store's own names (they start with `.` or
 * contain `@`) or differ between operating systems. An object `a/b.zip` is `a/b.zip@meta` (its commit record)
 * plus `a/b.zip@<version>` (its bytes), so `a` and `a/b` can both exist, as S3 allows.
 */
const MAX_SEGMENT_BYTES = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped
const ESCAPED = /[%@\\:*?"<>|\u0000-\u001f\u007f]/g;

export const META_SUFFIX = "@meta";

export function assertFsSafeKey(key: string): void {
  assertValidKey(key);
  if (key.startsWith("/")) throw new GliderError("invalid_key", "key must not be an absolute path", { key });
  if (key.includes("\\")) throw new GliderError("invalid_key", "key must not contain a backslash", { key });
  for (const segment of key.split("/")) {
    if (segment === "..") throw new GliderError("invalid_key", "key must not contain '..' segments", { key });
  }
}

export function encodeSegment(segment: string, key: string): string {
  if (segment === "") return "%";
  let encoded = segment.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  if (encoded.startsWith(".")) encoded = `%2E${encoded.slice(1)}`;
  if (Buffer.byteLength(encoded) > MAX_SEGMENT_BYTES) {
    throw new GliderError("invalid_key", `a key segment is longer than ${MAX_SEGMENT_BYTES} bytes once escaped`, {
      key,
    });
  }
  return encoded;
}

export function decodeSegment(name: string): string {
  if (name === "%") return "";
  return name.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Splits a key into escaped folder names and the escaped object name. */
export function keyToPath(key: string): { folders: string[]; name: string } {
  assertFsSafeKey(key);
  const segments = key.split("/").map((s) => encodeSegment(s, key));
  const name = segments.pop() ?? "%";
  return { folders: segments, name };
}

/** The folder path (escaped) that holds every key starting with `prefix`, and the rest of the prefix. */
export function prefixToFolder(prefix: string): { folders: string[]; rest: string } {
  const parts = prefix.split("/");
  const rest = parts.pop() ?? "";
  if (parts.some((p) => p === "..")) return { folders: [], rest: prefix };
  return { folders: parts.map((p) => encodeSegment(p, prefix)), rest };
}
