import type { ObjectRow } from "../../services/objects/service.js";

/** The RFC's snake_case object shape. */
export function objectJson(row: ObjectRow) {
  return {
    key: row.key,
    original_bytes: row.originalBytes,
    stored_bytes: row.storedBytes,
    compressed: row.compressed,
    modified: row.modified.toISOString(),
  };
}

/** RFC 6266 Content-Disposition: an ASCII fallback plus `filename*` for names outside it. */
export function contentDisposition(key: string): string {
  const name = key.slice(key.lastIndexOf("/") + 1) || "download";
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return ascii === name
    ? `attachment; filename="${name}"`
    : `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
