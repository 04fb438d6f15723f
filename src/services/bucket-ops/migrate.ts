import type { DeltaGlider } from "../deltaglider/index.js";
import { isDeltaCandidate } from "../deltaglider/keys.js";
import { GliderError } from "../errors.js";
import type { ObjectStore } from "../storage/object-store.js";
import { type PathFilter, selects } from "./filters.js";
import { folderPrefix } from "./listing.js";
import { type PutResult, putLogical } from "./put.js";

export interface MigrationItem {
  sourceKey: string;
  destKey: string;
  /** Stored bytes of the source object (LIST size). */
  bytes: number;
}

export interface MigrationPlan {
  sourceBucket: string;
  sourcePrefix: string;
  destBucket: string;
  /** Where objects land: the destination prefix, plus the source folder's name when the prefix is preserved. */
  destPrefix: string;
  items: MigrationItem[];
  /** Selected source objects already present at the destination (a resumed migration skips them). */
  alreadyMigrated: number;
}

/**
 * Plans `migrate SOURCE DEST` (DeltaGlider CLI semantics): every logical object below the source prefix that the
 * filter selects and the destination does not have yet. With `preservePrefix` (the default) the source folder's
 * last segment is kept: `s3://a/x/y/` → `s3://b/z/` writes `z/y/…`. Each object is written whole or not at all,
 * so "present at the destination" means "done": running the same migration again resumes it.
 */
export async function planMigration(
  store: ObjectStore,
  deltaglider: DeltaGlider,
  input: {
    source: { bucket: string; key: string };
    dest: { bucket: string; key: string };
    filter: PathFilter;
    preservePrefix: boolean;
    signal?: AbortSignal;
  },
): Promise<MigrationPlan> {
  const { signal } = input;
  const sourcePrefix = folderPrefix(input.source.key);
  let destPrefix = folderPrefix(input.dest.key);
  if (input.preservePrefix && sourcePrefix !== "") {
    const name = sourcePrefix.slice(0, -1).split("/").pop();
    if (name) destPrefix = `${destPrefix}${name}/`;
  }
  for (const bucket of [input.source.bucket, input.dest.bucket]) {
    if (!(await store.bucketExists(bucket, signal))) {
      throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
    }
  }
  if (
    input.source.bucket === input.dest.bucket &&
    (destPrefix.startsWith(sourcePrefix) || sourcePrefix.startsWith(destPrefix))
  ) {
    throw new GliderError("invalid_request", "source and destination overlap: migrate into another folder or bucket", {
      source: sourcePrefix,
      dest: destPrefix,
    });
  }
  const present = new Set<string>();
  for await (const page of deltaglider.catalogue.walk(input.dest.bucket, destPrefix, signal)) {
    for (const e of page.entries) present.add(e.key.slice(destPrefix.length));
  }
  const items: MigrationItem[] = [];
  let alreadyMigrated = 0;
  for await (const page of deltaglider.catalogue.walk(input.source.bucket, sourcePrefix, signal)) {
    for (const e of page.entries) {
      const rel = e.key.slice(sourcePrefix.length);
      if (rel === "" || e.key.endsWith("/") || !selects(input.filter, rel)) continue;
      if (present.has(rel)) alreadyMigrated++;
      else items.push({ sourceKey: e.key, destKey: `${destPrefix}${rel}`, bytes: e.storedBytes });
    }
  }
  return {
    sourceBucket: input.source.bucket,
    sourcePrefix,
    destBucket: input.dest.bucket,
    destPrefix,
    items,
    alreadyMigrated,
  };
}

export interface CopyOptions {
  noDelta: boolean;
  signal?: AbortSignal;
  /** Bytes read from the source as they pass. */
  onBytes?: (n: number) => void;
}

/**
 * One object from a location in any layout to the DeltaGlider layout: reconstructed (and verified) from the source,
 * then stored as DeltaGlider stores it. Server-side where that keeps the format intact: inside one bucket, a plain
 * object copied with `noDelta`, or a file that is not a delta candidate and already carries DeltaGlider metadata.
 */
export async function copyLogical(
  store: ObjectStore,
  deltaglider: DeltaGlider,
  from: { bucket: string; key: string },
  to: { bucket: string; key: string },
  options: CopyOptions,
): Promise<PutResult & { serverSide: boolean }> {
  const { signal } = options;
  const object = await deltaglider.catalogue.resolve(from.bucket, from.key, signal);
  const sameBucket = from.bucket === to.bucket;
  const serverSide =
    sameBucket &&
    object.kind !== "delta" &&
    ((options.noDelta && object.kind === "plain") || (!isDeltaCandidate(to.key) && object.kind === "direct"));
  if (serverSide) {
    const r = await store.copyObject({
      bucket: from.bucket,
      sourceKey: object.physicalKey,
      destinationKey: to.key,
      signal,
    });
    options.onBytes?.(r.size);
    return {
      key: to.key,
      storedAs: object.kind === "plain" ? "plain" : "direct",
      originalBytes: r.size,
      storedBytes: r.size,
      sha256: object.sha256 ?? "",
      serverSide: true,
    };
  }
  const source = await deltaglider.open(from.bucket, from.key, signal);
  const counted = (async function* () {
    for await (const chunk of source.body as AsyncIterable<Uint8Array>) {
      options.onBytes?.(chunk.length);
      yield chunk;
    }
  })();
  try {
    const r = await putLogical(store, deltaglider, to.bucket, to.key, counted, { noDelta: options.noDelta, signal });
    return { ...r, serverSide: false };
  } finally {
    source.body.destroy();
  }
}
