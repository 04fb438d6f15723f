import type { Metrics } from "../metrics.js";
import type { ConditionalWriteProbe } from "../storage/conditional-writes.js";
import type { ObjectStore } from "../storage/object-store.js";
import { type Catalogue, createCatalogue } from "./catalogue.js";
import { createDeleter, type Deleter } from "./delete.js";
import { createEncodePool, type EncodePool } from "./encode-pool.js";
import { createHashPool, type HashPool } from "./hash-pool.js";
import { createReconstructor, type Reconstructor } from "./reconstruct.js";
import { createReferenceCache, type ReferenceCache } from "./reference-cache.js";
import { createUploader, type ErrorLog, type Uploader } from "./upload.js";
import type { WindowPool } from "./window-pool.js";

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
  /**
   * Objects from this size on get their sha256 computed on a second thread while being downloaded.
   * @default the streamed ones, over 8 MiB (reconstruct.ts)
   */
  hashOffloadMinBytes?: number;
  /** Whether the store enforces If-None-Match (probed); default: the store's declared capability. */
  conditionalWrites?: ConditionalWriteProbe;
  /**
   * Process-wide resources of another instance (per-session connections): its encode workers, its sha256 thread,
   * its window pool and its reference cache, read through this store under `scope` (the store's endpoint). Closing this instance leaves
   * them running.
   */
  shared?: { from: DeltaGlider; scope: string };
}

/** DeltaGlider semantics over any ObjectStore: catalogue, reconstruction, upload, delete. */
export interface DeltaGlider {
  catalogue: Catalogue;
  references: ReferenceCache;
  encoder: EncodePool;
  /** The thread that hashes downloads (hash-pool.ts). */
  hasher: HashPool;
  windowPool: WindowPool;
  list: Catalogue["list"];
  resolve: Catalogue["resolve"];
  open: Reconstructor["open"];
  upload: Uploader["upload"];
  deleteObject: Deleter["deleteObject"];
  deletePrefix: Deleter["deletePrefix"];
  close(): Promise<void>;
}

export function createDeltaGlider(store: ObjectStore, metrics: Metrics, options: DeltaGliderOptions = {}): DeltaGlider {
  const catalogue = createCatalogue(store, { headConcurrency: options.headConcurrency });
  const shared = options.shared?.from;
  const references = shared
    ? shared.references.forStore(store, options.shared?.scope ?? "")
    : createReferenceCache(store, { maxBytes: options.referenceCacheBytes, tmpDir: options.tmpDir });
  const pool = shared ? shared.encoder : (options.encodePool ?? createEncodePool({ threads: options.encodeThreads }));
  const hasher = shared ? shared.hasher : createHashPool();
  const reconstructor = createReconstructor(store, catalogue, references, metrics, {
    windowBudgetBytes: options.windowBudgetBytes,
    windowPool: shared?.windowPool,
    hashPool: hasher,
    hashOffloadMinBytes: options.hashOffloadMinBytes,
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
    hasher,
    windowPool: reconstructor.windowPool,
    list: catalogue.list,
    resolve: catalogue.resolve,
    open: reconstructor.open,
    upload: uploader.upload,
    deleteObject: deleter.deleteObject,
    deletePrefix: deleter.deletePrefix,
    async close() {
      if (shared) return;
      await pool.close();
      await hasher.close();
      await references.close();
    },
  };
}

// What front doors (the CLI) use of the key scheme and the catalogue; the rest of this folder is internal.
export type { Catalogue } from "./catalogue.js";
export { deltaSpaceOf, isDeltaCandidate } from "./keys.js";
