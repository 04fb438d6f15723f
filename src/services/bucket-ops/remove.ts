import type { DeltaGlider } from "../deltaglider/index.js";
import { DELTA_SUFFIX, isHousekeepingKey, isReferenceKey, toLogical } from "../deltaglider/keys.js";
import { GliderError } from "../errors.js";
import { keyExists } from "../storage/key-exists.js";
import type { ObjectStore } from "../storage/object-store.js";
import { assertBucket, folderPrefix } from "./listing.js";

export interface RemovalResult {
  /** Logical keys removed (or, in a dry run, that would be). */
  removed: string[];
  /** Physical keys removed, references included (a dry run lists the objects' own keys only). */
  physicalKeys: string[];
  dryRun: boolean;
}

function logicalKeys(physical: readonly string[]): string[] {
  return [...new Set(physical.flatMap((k) => toLogical(k)?.key ?? []))];
}

/** The physical objects of one logical key (its exact object and/or its `.delta`). */
async function physicalOf(store: ObjectStore, bucket: string, key: string, signal?: AbortSignal) {
  if (isReferenceKey(key) || isHousekeepingKey(key)) return [];
  const candidates = key.endsWith(DELTA_SUFFIX) ? [key] : [key, `${key}${DELTA_SUFFIX}`];
  const found: string[] = [];
  for (const physical of candidates) if (await keyExists(store, bucket, physical, signal)) found.push(physical);
  return found;
}

/** A key naming a folder (the bucket's root or ending in `/`): removing it needs `recursive`. */
export function isFolderKey(key: string): boolean {
  return key === "" || key.endsWith("/");
}

/**
 * `rm` as the DeltaGlider CLI does it (format doc §6). One key: its object and `.delta`, then the DeltaSpace's
 * reference if nothing needs it. Recursive: a prefix without a trailing `/` takes the exact key with it, then
 * everything below `prefix/`, then the references no delta needs any more. A key ending in `/` needs `recursive`.
 * Nothing found is not an error: `removed` is empty (as S3 deletes are).
 */
export async function removeObjects(
  store: ObjectStore,
  deltaglider: DeltaGlider,
  bucket: string,
  key: string,
  options: { recursive: boolean; dryRun: boolean; hiddenBuckets?: readonly string[]; signal?: AbortSignal },
): Promise<RemovalResult> {
  const { signal, dryRun } = options;
  await assertBucket(store, bucket, options.hiddenBuckets, signal);
  if (!options.recursive && isFolderKey(key)) {
    throw new GliderError("invalid_request", `s3://${bucket}/${key} is a folder: use rm -r (--recursive)`, {
      bucket,
      key,
    });
  }
  const physicalKeys: string[] = [];
  const exact = key !== "" && !key.endsWith("/");
  if (exact) {
    const found = await physicalOf(store, bucket, key, signal);
    if (dryRun) physicalKeys.push(...found);
    else if (found.length > 0) physicalKeys.push(...(await deltaglider.deleteObject(bucket, key, signal)).deleted);
  }
  if (options.recursive) {
    const folder = folderPrefix(key);
    if (dryRun) {
      let continuationToken: string | undefined;
      do {
        const page = await store.listObjects({ bucket, prefix: folder, continuationToken, signal });
        for (const o of page.objects) if (toLogical(o.key)) physicalKeys.push(o.key);
        continuationToken = page.nextContinuationToken;
      } while (continuationToken);
    } else {
      physicalKeys.push(...(await deltaglider.deletePrefix(bucket, folder, signal)).deleted);
    }
  }
  return { removed: logicalKeys(physicalKeys), physicalKeys, dryRun };
}
