import type { Metrics } from "../metrics.js";
import type { ConditionalWriteProbe } from "../storage/conditional-writes.js";
import type { ObjectStore } from "../storage/object-store.js";
import { createCatalogue } from "./catalogue.js";
import { createDeleter } from "./delete.js";
import { createEncodePool, type EncodePool } from "./encode-pool.js";
import { createReconstructor } from "./reconstruct.js";
import { createReferenceCache } from "./reference-cache.js";
import { createUploader, type ErrorLog } from "./upload.js";

export interface DeltaGliderOptions {
  referenceCacheBytes?: number;
  maxRatio?: number;
  encodeThreads?: number;
  headConcurrency?: number;
  /** Decoded-window bytes all downloads may hold at once. @default 64 MiB */
  windowBudgetBytes?: number;
  tmpDir?: string;
  /** An encode pool to use instead of a new one (tests force encoder failures through it); closed with the rest. */
  encodePool?: EncodePool;
  /** Reports uploads stored whole because their delta failed its proof. */
  logger?: ErrorLog;
  /** Whether the store enforces If-None-Match (probed); default: the store's declared capability. */
  conditionalWrites?: ConditionalWriteProbe;
}

/** DeltaGlider semantics over any ObjectStore: catalogue, reconstruction, upload, delete. */
export function createDeltaGlider(store: ObjectStore, metrics: Metrics, options: DeltaGliderOptions = {}) {
  const catalogue = createCatalogue(store, { headConcurrency: options.headConcurrency });
  const references = createReferenceCache(store, { maxBytes: options.referenceCacheBytes, tmpDir: options.tmpDir });
  const pool = options.encodePool ?? createEncodePool({ threads: options.encodeThreads });
  const reconstructor = createReconstructor(store, catalogue, references, metrics, {
    windowBudgetBytes: options.windowBudgetBytes,
  });
  const uploader = createUploader(store, references, pool, {
    maxRatio: options.maxRatio,
    tmpDir: options.tmpDir,
    logger: options.logger,
    onEncoderFallback: () => metrics.encoderFallbacks.inc(),
    conditionalWrites: options.conditionalWrites,
  });
  const deleter = createDeleter(store);
  return {
    catalogue,
    references,
    encoder: pool,
    list: catalogue.list,
    resolve: catalogue.resolve,
    open: reconstructor.open,
    upload: uploader.upload,
    deleteObject: deleter.deleteObject,
    deletePrefix: deleter.deletePrefix,
    async close() {
      await pool.close();
      await references.close();
    },
  };
}

export type DeltaGlider = ReturnType<typeof createDeltaGlider>;
