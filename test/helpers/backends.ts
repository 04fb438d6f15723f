import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsStore } from "../../src/services/storage/fs-store.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { createRgwTenant, createS3StoreForRgw } from "./rgw.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "./s3rver.js";

export interface BackendHandle {
  store: ObjectStore;
  /** The fs backend's data folder, for tests that inspect the bytes at rest. */
  dataDir?: string;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: "memory" | "fs" | "s3" | "rgw";
  create(): Promise<BackendHandle>;
}

/**
 * The storage backends, each real: s3 is an s3rver process on 127.0.0.1 with a random port; rgw is a fresh tenant
 * (its own user and empty bucket namespace) on the run's Ceph RADOS Gateway (test/helpers/rgw-global-setup.ts).
 */
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
  {
    name: "rgw",
    create: async () => {
      const tenant = await createRgwTenant();
      const store = createS3StoreForRgw(tenant);
      return {
        store,
        cleanup: async () => {
          await store.close();
          await tenant.remove();
        },
      };
    },
  },
];
