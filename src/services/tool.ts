import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Catalogue } from "./deltaglider/catalogue.js";
import type { DeltaGlider } from "./deltaglider/index.js";
import type { ObjectStore } from "./storage/object-store.js";

/**
 * The services a one-shot tool (the `glider` command) needs, built lazily: a verb that only lists loads the store
 * and nothing of the codec, the encode pool or Send. The server builds everything through `createServices` instead.
 */
export interface ToolServices {
  config: Config;
  logger: Logger;
  store: ObjectStore;
  /** Buckets tools never show (Send's system bucket). */
  hiddenBuckets: readonly string[];
  /** Logical listings only (no codec, no encode pool): what ls, stats and the planning of a sync need. */
  catalogue(): Promise<Catalogue>;
  /** DeltaGlider semantics (codec, encode pool, reference cache), loaded on first use. */
  deltaglider(): Promise<DeltaGlider>;
  close(): Promise<void>;
}

export interface ToolOptions {
  /** Overrides DG_MAX_RATIO for this run (`--max-ratio`). */
  maxRatio?: number;
  /** Wraps the store with call logging (`--debug`). */
  instrument?: boolean;
}

async function openStore(storage: Config["storage"]): Promise<ObjectStore> {
  switch (storage.kind) {
    case "fs":
      return (await import("./storage/fs-store.js")).createFsStore(storage.dataDir);
    case "memory":
      return (await import("./storage/memory-store.js")).createMemoryStore();
    case "s3":
      return (await import("./storage/s3-store.js")).createS3Store(storage);
  }
}

export async function createToolServices(
  config: Config,
  logger: Logger,
  options: ToolOptions = {},
): Promise<ToolServices> {
  let store = await openStore(config.storage);
  let metrics: Awaited<ReturnType<typeof loadMetrics>> | undefined;
  async function loadMetrics() {
    return (await import("./metrics.js")).createMetrics();
  }
  if (options.instrument) {
    metrics = await loadMetrics();
    const { instrumentStore } = await import("./storage/instrumented-store.js");
    store = instrumentStore(store, metrics, logger.child({ component: "storage" }));
  }
  let deltaglider: Promise<DeltaGlider> | undefined;
  let catalogue: Promise<Catalogue> | undefined;
  return {
    config,
    logger,
    store,
    hiddenBuckets: [config.send.systemBucket],
    catalogue() {
      catalogue ??= deltaglider
        ? deltaglider.then((dg) => dg.catalogue)
        : import("./deltaglider/catalogue.js").then(({ createCatalogue }) =>
            createCatalogue(store, { headConcurrency: config.deltaglider.headConcurrency }),
          );
      return catalogue;
    },
    deltaglider() {
      deltaglider ??= (async () => {
        const { createDeltaGlider } = await import("./deltaglider/index.js");
        metrics ??= await loadMetrics();
        return createDeltaGlider(store, metrics, {
          maxRatio: options.maxRatio ?? config.deltaglider.maxRatio,
          referenceCacheBytes: config.deltaglider.referenceCacheBytes,
          encodeThreads: config.deltaglider.encodeThreads || undefined,
          headConcurrency: config.deltaglider.headConcurrency,
          windowBudgetBytes: config.deltaglider.windowBudgetBytes,
        });
      })();
      return deltaglider;
    },
    async close() {
      if (deltaglider) await (await deltaglider).close();
      await store.close();
    },
  };
}
