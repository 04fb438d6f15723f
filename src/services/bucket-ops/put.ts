import { createHash } from "node:crypto";
import type { DeltaGlider } from "../deltaglider/index.js";
import { assertWritableLogicalKey, DELTA_SUFFIX } from "../deltaglider/keys.js";
import { iterateBody } from "../storage/body.js";
import type { ObjectStore, PutBody } from "../storage/object-store.js";

export interface PutResult {
  key: string;
  /** `plain` = stored as is, without DeltaGlider metadata (`--no-delta`, as the DeltaGlider CLI does). */
  storedAs: "reference" | "delta" | "direct" | "plain";
  originalBytes: number;
  storedBytes: number;
  sha256: string;
}

/**
 * Stores one logical object: the DeltaGlider way (reference, delta or direct file), or with `noDelta` as a plain
 * object, in which case a stale `.delta` of the same name is removed so the logical key has one representation.
 */
export async function putLogical(
  store: ObjectStore,
  deltaglider: DeltaGlider,
  bucket: string,
  key: string,
  body: PutBody,
  options: { noDelta: boolean; signal?: AbortSignal },
): Promise<PutResult> {
  const { signal } = options;
  if (!options.noDelta) {
    const r = await deltaglider.upload(bucket, key, body, signal);
    return {
      key: r.key,
      storedAs: r.storedAs,
      originalBytes: r.originalBytes,
      storedBytes: r.storedBytes,
      sha256: r.sha256,
    };
  }
  assertWritableLogicalKey(key);
  const hash = createHash("sha256");
  let size = 0;
  await store.putObject({
    bucket,
    key,
    contentType: "application/octet-stream",
    body: (async function* () {
      for await (const chunk of iterateBody(body)) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    })(),
    signal,
  });
  try {
    await deltaglider.deleteObject(bucket, `${key}${DELTA_SUFFIX}`, signal);
  } catch (error) {
    if ((error as { code?: string }).code !== "key_not_found") throw error;
  }
  return { key, storedAs: "plain", originalBytes: size, storedBytes: size, sha256: hash.digest("hex") };
}
