import { createReadStream } from "node:fs";
import { GliderError } from "../errors.js";
import type { ConditionalWriteProbe } from "../storage/conditional-writes.js";
import { keyExists } from "../storage/key-exists.js";
import type { ObjectStore } from "../storage/object-store.js";
import { readDgMetadata, referenceMetadata } from "./metadata.js";
import type { Spooled } from "./spool.js";

/** Creates a DeltaSpace's reference.bin so that concurrent uploads agree on one (format doc §3). */
export interface ReferenceWriter {
  /**
   * Creates `referenceKey` from this upload, with If-None-Match when the store enforces it; false when another
   * writer created it first (then that writer's reference is the one to use).
   */
  create(bucket: string, referenceKey: string, name: string, file: Spooled, signal?: AbortSignal): Promise<boolean>;
}

export function createReferenceWriter(
  store: ObjectStore,
  conditionalWrites: ConditionalWriteProbe,
  now: () => Date,
): ReferenceWriter {
  /** Reference creations in flight in this process, per bucket and reference key (the no-If-None-Match path). */
  const creating = new Map<string, Promise<unknown>>();

  /** Creates reference.bin from this upload; false when another writer created it first. */
  async function createReference(
    bucket: string,
    referenceKey: string,
    name: string,
    file: Spooled,
    signal?: AbortSignal,
  ) {
    const put = (ifNoneMatch?: "*") =>
      store.putObject({
        bucket,
        key: referenceKey,
        body: createReadStream(file.path),
        contentType: "application/octet-stream",
        metadata: referenceMetadata({ sourceName: name, sha256: file.sha256, now: now() }),
        ifNoneMatch,
        signal,
      });
    if ((await conditionalWrites.support(signal)).ifNoneMatch) {
      try {
        await put("*");
        return true;
      } catch (error) {
        if (error instanceof GliderError && error.code === "precondition_failed") return false;
        throw error;
      }
    }
    // The store ignores If-None-Match: one creation at a time per reference in this process, a fresh look before
    // writing, and a re-read after it. Only a reference whose stored sha256 is this upload's is used as ours; any
    // other writer's wins. Its bytes are verified against that sha256 when the delta is encoded (reference cache).
    const lock = `${bucket}\0${referenceKey}`;
    while (creating.has(lock)) await creating.get(lock)?.catch(() => undefined);
    const attempt = (async () => {
      if (await keyExists(store, bucket, referenceKey, signal)) return false;
      await put();
      const stored = readDgMetadata((await store.headObject(bucket, referenceKey, signal)).metadata).fileSha256;
      return stored === file.sha256;
    })();
    creating.set(lock, attempt);
    try {
      return await attempt;
    } finally {
      creating.delete(lock);
    }
  }

  return { create: createReference };
}
