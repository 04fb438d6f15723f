import { GliderError } from "../errors.js";
import { keyExists } from "../storage/key-exists.js";
import type { ObjectStore } from "../storage/object-store.js";
import { DELTA_SUFFIX, deltaSpaceOf, isHousekeepingKey, isReferenceKey, referenceKeyOf } from "./keys.js";

export interface DeleteResult {
  /** Physical keys removed, references included. */
  deleted: string[];
}

/**
 * Deletes logical objects the way DeltaGlider's `rm` does (format doc §6), with the doc's recommended fix: whether a
 * DeltaSpace still needs its reference is decided by listing `dir/` with a delimiter and looking for `.delta` keys.
 * Unlike DeltaGlider, root-level references are cleaned up too: nothing else ever removes them.
 */
export function createDeleter(store: ObjectStore) {
  async function deltasRemain(bucket: string, deltaSpace: string, signal?: AbortSignal): Promise<boolean> {
    let continuationToken: string | undefined;
    do {
      const page = await store.listObjects({ bucket, prefix: deltaSpace, delimiter: "/", continuationToken, signal });
      if (page.objects.some((o) => o.key.endsWith(DELTA_SUFFIX))) return true;
      continuationToken = page.nextContinuationToken;
    } while (continuationToken);
    return false;
  }

  async function dropUnusedReferences(
    bucket: string,
    spaces: Iterable<string>,
    deleted: string[],
    signal?: AbortSignal,
  ) {
    for (const space of spaces) {
      const referenceKey = referenceKeyOf(space);
      if (!(await deltasRemain(bucket, space, signal)) && (await keyExists(store, bucket, referenceKey, signal))) {
        await store.deleteObject(bucket, referenceKey, signal);
        deleted.push(referenceKey);
      }
    }
  }

  /**
   * One logical key: its exact object and/or its `.delta`; `key_not_found` when neither exists.
   *
   * Orphaned references (README "Crash-consistent DeltaSpaces"): a `reference.bin` whose DeltaSpace holds no delta
   * (a first upload that crashed between the reference and its delta) is removed by deleting any key of that
   * DeltaSpace, the reference key itself included. A reference that deltas still need is never removed here.
   */
  async function deleteObject(bucket: string, key: string, signal?: AbortSignal): Promise<DeleteResult> {
    if (isHousekeepingKey(key)) {
      throw new GliderError("key_not_found", `no object "${key}" in bucket "${bucket}"`, { bucket, key });
    }
    if (isReferenceKey(key)) {
      const deleted: string[] = [];
      await dropUnusedReferences(bucket, [deltaSpaceOf(key)], deleted, signal);
      if (deleted.length === 0) {
        throw new GliderError("key_not_found", `no object "${key}" in bucket "${bucket}"`, { bucket, key });
      }
      return { deleted };
    }
    const deleted: string[] = [];
    const candidates = key.endsWith(DELTA_SUFFIX) ? [key] : [key, `${key}${DELTA_SUFFIX}`];
    for (const physical of candidates) {
      if (await keyExists(store, bucket, physical, signal)) {
        await store.deleteObject(bucket, physical, signal);
        deleted.push(physical);
      }
    }
    // Also when nothing of the key was found: the key's first upload may have crashed after its reference.
    if (deleted.length === 0 || deleted.some((k) => k.endsWith(DELTA_SUFFIX)))
      await dropUnusedReferences(bucket, [deltaSpaceOf(key)], deleted, signal);
    if (deleted.length === 0) {
      throw new GliderError("key_not_found", `no object "${key}" in bucket "${bucket}"`, { bucket, key });
    }
    return { deleted };
  }

  /** Everything below a folder prefix, then every reference no delta needs any more. */
  async function deletePrefix(bucket: string, prefix: string, signal?: AbortSignal): Promise<DeleteResult> {
    const folder = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    const deleted: string[] = [];
    const spaces = new Set<string>();
    const references: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await store.listObjects({ bucket, prefix: folder, continuationToken, signal });
      for (const object of page.objects) {
        if (isHousekeepingKey(object.key)) continue;
        if (isReferenceKey(object.key)) {
          references.push(object.key);
          continue;
        }
        if (object.key.endsWith(DELTA_SUFFIX)) spaces.add(deltaSpaceOf(object.key));
        await store.deleteObject(bucket, object.key, signal);
        deleted.push(object.key);
      }
      continuationToken = page.nextContinuationToken;
    } while (continuationToken);
    for (const ref of references) spaces.add(deltaSpaceOf(ref));
    await dropUnusedReferences(bucket, spaces, deleted, signal);
    return { deleted };
  }

  return { deleteObject, deletePrefix };
}

export type Deleter = ReturnType<typeof createDeleter>;
