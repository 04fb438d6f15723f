import { GliderError } from "../errors.js";
import type { ObjectStore } from "./object-store.js";

/** Whether `key` exists, by HEAD: a missing key is `false`, every other failure (timeout, no access) is thrown. */
export async function keyExists(
  store: ObjectStore,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await store.headObject(bucket, key, signal);
    return true;
  } catch (error) {
    if (error instanceof GliderError && error.code === "key_not_found") return false;
    throw error;
  }
}
