/** Reading DeltaGlider metadata through every spelling writers used (format doc §2.3), writing the canonical set. */
const ALIASES = {
  tool: ["dg-tool", "dg_tool", "tool"],
  originalName: ["dg-original-name", "dg_original_name", "original_name", "original-name"],
  fileSha256: ["dg-file-sha256", "dg_file_sha256", "file_sha256", "file-sha256"],
  fileSize: ["dg-file-size", "dg_file_size", "file_size", "file-size", "deltaglider-original-size"],
  createdAt: ["dg-created-at", "dg_created_at", "created_at", "created-at"],
  refKey: ["dg-ref-key", "dg_ref_key", "ref_key", "ref-key"],
  refSha256: ["dg-ref-sha256", "dg_ref_sha256", "ref_sha256", "ref-sha256"],
  deltaSize: ["dg-delta-size", "dg_delta_size", "delta_size", "delta-size"],
  deltaCmd: ["dg-delta-cmd", "dg_delta_cmd", "delta_cmd", "delta-cmd"],
  note: ["dg-note", "dg_note", "note"],
  compression: ["dg-compression", "dg_compression", "compression"],
  sourceName: ["dg-source-name", "dg_source_name", "source_name", "source-name"],
} as const;

export type DgField = keyof typeof ALIASES;
export type DgMetadata = Partial<Record<DgField, string>>;

/** First non-empty value per field; keys compared case-insensitively (some stores change header case). */
export function readDgMetadata(raw: Record<string, string>): DgMetadata {
  const lower = new Map(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v]));
  const out: DgMetadata = {};
  for (const [field, keys] of Object.entries(ALIASES) as [DgField, readonly string[]][]) {
    for (const key of keys) {
      const value = lower.get(key);
      if (value !== undefined && value !== "") {
        out[field] = value;
        break;
      }
    }
  }
  return out;
}

export type ObjectKind = "delta" | "direct" | "plain";

/** Decide by metadata, not by name (§4): no sha256 → plain; compression none → direct; otherwise a delta. */
export function kindOf(meta: DgMetadata): ObjectKind {
  if (!meta.fileSha256) return "plain";
  if (meta.compression?.toLowerCase() === "none") return "direct";
  return "delta";
}

export function parseSize(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

export const TOOL = "deltaglider/6.1.2";

/**
 * Metadata travels as HTTP headers, which carry ASCII only; non-ASCII names are written as RFC 2047 encoded words,
 * the form S3 itself returns for such values (format doc §9 q5). Names are informational to every reader.
 */
export function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

/** UTC timestamp as DeltaGlider prints it: six fraction digits (omitted when zero), optional `Z`. */
export function dgTimestamp(date: Date, withZ: boolean): string {
  const iso = date.toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => (ms === "000" ? "" : `.${ms}000`));
  return withZ ? `${iso}Z` : iso;
}

export function referenceMetadata(input: { sourceName: string; sha256: string; now: Date }): Record<string, string> {
  return {
    "dg-tool": TOOL,
    "dg-source-name": headerSafe(input.sourceName),
    "dg-file-sha256": input.sha256,
    "dg-created-at": dgTimestamp(input.now, true),
    "dg-note": "reference",
  };
}

export function deltaMetadata(input: {
  originalName: string;
  sha256: string;
  size: number;
  refKey: string;
  refSha256: string;
  deltaSize: number;
  zeroDiff: boolean;
  now: Date;
}): Record<string, string> {
  const meta: Record<string, string> = {
    "dg-tool": TOOL,
    "dg-original-name": headerSafe(input.originalName),
    "dg-file-sha256": input.sha256,
    "dg-file-size": String(input.size),
    "dg-created-at": dgTimestamp(input.now, true),
    "dg-ref-key": input.refKey,
    "dg-ref-sha256": input.refSha256,
    "dg-delta-size": String(input.deltaSize),
    "dg-delta-cmd": headerSafe(`xdelta3 -e -9 -s reference.bin ${input.originalName} ${input.originalName}.delta`),
  };
  if (input.zeroDiff) meta["dg-note"] = "zero-diff (reference identical)";
  return meta;
}

/** Canonical 6.1.2 direct-file keys plus the bare `compression` key that 6.0–6.1.1 readers (the Commander) check. */
export function directMetadata(input: { originalName: string; sha256: string; size: number; now: Date }) {
  return {
    "dg-tool": TOOL,
    "dg-original-name": headerSafe(input.originalName),
    "dg-file-sha256": input.sha256,
    "dg-file-size": String(input.size),
    "dg-created-at": dgTimestamp(input.now, false),
    "dg-compression": "none",
    compression: "none",
  };
}
