import type { Config } from "../../config.js";
import { createFsStore } from "./fs-store.js";
import { createMemoryStore } from "./memory-store.js";
import type { ObjectStore } from "./object-store.js";
import { createS3Store } from "./s3-store.js";

export function createStore(storage: Config["storage"]): ObjectStore {
  switch (storage.kind) {
    case "fs":
      return createFsStore(storage.dataDir);
    case "memory":
      return createMemoryStore();
    case "s3":
      return createS3Store(storage);
  }
}

// The storage helpers front doors use; the rest of this folder is internal to the services.
export { type BucketAcl, type CannedAcl, createBucketAcl } from "./bucket-acl.js";
export { assertValidBucketName, compareKeys } from "./keys.js";
export type { BucketSummary, ObjectStore } from "./object-store.js";
