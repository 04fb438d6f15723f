/**
 * The incremental savings index: per logical object of a bucket, what its physical object was when Glider last read
 * it (ETag, stored size and LastModified from LIST, original size from `dg-file-size`). A scan reuses an entry only
 * when the LIST shows the same ETag, size and LastModified, so the index is a cache: a missing, stale or
 * foreign-written entry (even a metadata-only rewrite, which keeps the ETag but not the LastModified) costs one HEAD,
 * never a wrong figure.
 */
export interface IndexEntry {
  etag: string;
  storedBytes: number;
  originalBytes: number;
  /**
   * LIST LastModified (epoch ms); undefined for an entry recorded from Glider's own upload (the PUT answer has no
   * LastModified), which matches on ETag and size and takes the LIST's LastModified at the next scan.
   */
  modified?: number;
}

/**
 * Whether an entry still describes the physical object LIST shows: same ETag, stored size and (when recorded)
 * LastModified. Only then may its original size stand in for a HEAD.
 */
export function entryMatches(
  known: IndexEntry | undefined,
  listed: { etag: string; storedBytes: number; modified: Date },
): known is IndexEntry {
  return (
    known !== undefined &&
    known.etag === listed.etag &&
    known.storedBytes === listed.storedBytes &&
    (known.modified === undefined || known.modified === listed.modified.getTime())
  );
}

/** Physical key → entry. */
export type SavingsIndex = Map<string, IndexEntry>;

/** Where indexes persist (Send's system bucket in the app, so every instance reads the same one). */
export interface SavingsIndexStore {
  load(bucket: string): Promise<SavingsIndex | undefined>;
  save(bucket: string, index: SavingsIndex): Promise<void>;
}

/** The JSON records the system store reads and writes (audit/system-store.ts has this shape). */
export interface JsonRecords {
  readJson<T>(key: string): Promise<T | undefined>;
  writeJson(key: string, value: unknown): Promise<void>;
}

const VERSION = 1;

interface IndexRecord {
  v: number;
  bucket: string;
  /** [physicalKey, etag, storedBytes, originalBytes, modified (epoch ms, 0 when unknown)] */
  objects: [string, string, number, number, number][];
}

export function indexKey(bucket: string): string {
  return `savings-index/${bucket}.json`;
}

function isRow(row: unknown): row is [string, string, number, number, number] {
  return (
    Array.isArray(row) &&
    row.length === 5 &&
    typeof row[0] === "string" &&
    typeof row[1] === "string" &&
    Number.isSafeInteger(row[2]) &&
    Number.isSafeInteger(row[3]) &&
    Number.isSafeInteger(row[4]) &&
    row[2] >= 0 &&
    row[3] >= 0
  );
}

/** Parses a stored record; anything unexpected (older version, hand edits) reads as no index at all. */
export function parseIndex(bucket: string, record: unknown): SavingsIndex | undefined {
  const r = record as Partial<IndexRecord> | undefined;
  if (!r || r.v !== VERSION || r.bucket !== bucket || !Array.isArray(r.objects)) return undefined;
  const index: SavingsIndex = new Map();
  for (const row of r.objects) {
    if (!isRow(row)) return undefined;
    index.set(row[0], { etag: row[1], storedBytes: row[2], originalBytes: row[3], modified: row[4] || undefined });
  }
  return index;
}

export function serialiseIndex(bucket: string, index: SavingsIndex): IndexRecord {
  const objects: IndexRecord["objects"] = [];
  for (const [key, e] of index) objects.push([key, e.etag, e.storedBytes, e.originalBytes, e.modified ?? 0]);
  return { v: VERSION, bucket, objects };
}

export function createIndexStore(records: JsonRecords): SavingsIndexStore {
  return {
    async load(bucket) {
      return parseIndex(bucket, await records.readJson<unknown>(indexKey(bucket)));
    },
    async save(bucket, index) {
      await records.writeJson(indexKey(bucket), serialiseIndex(bucket, index));
    },
  };
}
