import type { Catalogue, LogicalEntry } from "../deltaglider/catalogue.js";
import { GliderError } from "../errors.js";
import { compareKeys } from "../storage/keys.js";
import type { BucketSummary, ObjectStore } from "../storage/object-store.js";

/** One logical object with its ORIGINAL size (a delta's `dg-file-size`, one HEAD) and its stored size. */
export interface LogicalRow {
  key: string;
  physicalKey: string;
  originalBytes: number;
  storedBytes: number;
  compressed: boolean;
  modified: Date;
}

/**
 * The browsing rules every front door and service shares: a hidden bucket (Send's system bucket) is answered exactly
 * as a missing one, `bucket_not_found`, and never listed. The server's services and the CLI all call these.
 */
export function notFound(bucket: string): GliderError {
  return new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
}

/** `bucket_not_found` for a hidden bucket (no storage call). */
export function assertVisible(bucket: string, hidden: readonly string[]): void {
  if (hidden.includes(bucket)) throw notFound(bucket);
}

/** The buckets of a listing a user may see, in listing order. */
export function withoutHidden<T extends { name: string }>(buckets: readonly T[], hidden: readonly string[]): T[] {
  return buckets.filter((b) => !hidden.includes(b.name));
}

/** The buckets a user may see: everything but the hidden ones (Send's system bucket), by name. */
export async function visibleBuckets(
  store: ObjectStore,
  hidden: readonly string[],
  signal?: AbortSignal,
): Promise<BucketSummary[]> {
  return withoutHidden(await store.listBuckets(signal), hidden).sort((a, b) => compareKeys(a.name, b.name));
}

/** `bucket_not_found` unless the bucket exists and is not hidden. */
export async function assertBucket(
  store: Pick<ObjectStore, "bucketExists">,
  bucket: string,
  hidden: readonly string[] = [],
  signal?: AbortSignal,
): Promise<void> {
  assertVisible(bucket, hidden);
  if (!(await store.bucketExists(bucket, signal))) throw notFound(bucket);
}

/** Entries with their original sizes: deltas are HEADed (bounded parallel), everything else is its own size. */
export async function withOriginalSizes(
  catalogue: Catalogue,
  bucket: string,
  entries: readonly LogicalEntry[],
  signal?: AbortSignal,
): Promise<LogicalRow[]> {
  const deltas = entries.filter((e) => e.compressed);
  const described = new Map<string, number>();
  for (const object of await catalogue.describeMany(bucket, deltas, signal)) {
    described.set(object.physicalKey, object.originalBytes);
  }
  return entries.map((e) => ({
    key: e.key,
    physicalKey: e.physicalKey,
    originalBytes: described.get(e.physicalKey) ?? e.storedBytes,
    storedBytes: e.storedBytes,
    compressed: e.compressed,
    modified: e.modified,
  }));
}

export interface Listing {
  objects: LogicalRow[];
  commonPrefixes: string[];
}

/**
 * A logical listing below `prefix`: one folder level (sub-folders as common prefixes) or, recursive, every object.
 * Every page of the store is followed (no 1,000-key stop) and every row carries its original size.
 */
export async function listLogical(
  catalogue: Catalogue,
  bucket: string,
  prefix: string,
  options: { recursive: boolean; originalSizes?: boolean; signal?: AbortSignal },
): Promise<Listing> {
  const { signal } = options;
  let entries: LogicalEntry[] = [];
  let commonPrefixes: string[] = [];
  if (options.recursive) {
    for await (const page of catalogue.walk(bucket, prefix, signal)) entries.push(...page.entries);
  } else {
    const listing = await catalogue.list(bucket, prefix, signal);
    entries = listing.objects;
    commonPrefixes = [...listing.commonPrefixes].sort(compareKeys);
  }
  entries.sort((a, b) => compareKeys(a.key, b.key));
  const objects =
    options.originalSizes === false
      ? entries.map((e) => ({ ...e, originalBytes: e.storedBytes }))
      : await withOriginalSizes(catalogue, bucket, entries, signal);
  return { objects, commonPrefixes };
}

/** A prefix taken as a folder: "" stays the bucket root, anything else ends with `/`. */
export function folderPrefix(prefix: string): string {
  return prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
}
