import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsStore } from "../../src/services/storage/fs-store.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "./s3rver.js";

export interface BackendHandle {
  store: ObjectStore;
  /** The fs backend's data folder, for tests that inspect the bytes at rest. */
  dataDir?: string;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: "memory" | "fs" | "s3";
  create(): Promise<BackendHandle>;
}

/** The three storage backends, each real: s3 is an s3rver process on 127.0.0.1 with a random port. */
export const BACKENDS: Backend[] = [
  { name: "memory", create: async () => ({ store: createMemoryStore(), cleanup: async () => {} }) },
  {
    name: "fs",
    create: async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "glider-fs-"));
      return { store: createFsStore(dataDir), dataDir, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
    },
  },
  {
    name: "s3",
    create: async () => {
      const s3: S3rverHandle = await startS3rver();
      const store = createS3StoreFor(s3);
      return {
        store,
        cleanup: async () => {
          await store.close();
          await s3.stop();
        },
      };
    },
  },
];
