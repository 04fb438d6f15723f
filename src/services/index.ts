import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { AuditService } from "./audit/service.js";
import { createSystemStore } from "./audit/system-store.js";
import { createDeltaGlider, type DeltaGlider } from "./deltaglider/index.js";
import { createDownloadsService, type DownloadsService } from "./downloads/service.js";
import { createHealthService, type HealthService } from "./health.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createObjectsService, type ObjectsService } from "./objects/service.js";
import { createIndexStore } from "./savings/index-store.js";
import { type BucketChange, createSavingsService } from "./savings/jobs.js";
import { createSharedSavings, type SavingsFacade } from "./savings/shared.js";
import { createSharedState, type SharedState } from "./shared/index.js";
import { randomSecret } from "./signing.js";
import { createConditionalWriteProbe } from "./storage/conditional-writes.js";
import { createStore } from "./storage/index.js";
import { instrumentStore } from "./storage/instrumented-store.js";
import type { ObjectStore } from "./storage/object-store.js";
import type { TokensService } from "./tokens/service.js";
import { createSendServices } from "./transfers/send.js";
import type { TransfersService } from "./transfers/service.js";

export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  store: ObjectStore;
  health: HealthService;
  /** DeltaGlider semantics: logical listings, verified downloads, uploads, deletes. */
  deltaglider: DeltaGlider;
  /** Browsing for the UI (both front doors): cached listings, sorting, cursors, metadata, upload and delete. */
  objects: ObjectsService;
  /** Signed download tokens and the verified download stream. */
  downloads: DownloadsService;
  /** On-demand savings jobs: one scan per bucket, live progress, cached figures. */
  savings: SavingsFacade;
  /** Send: transfers, sender tokens and the audit trail (system bucket `config.send.systemBucket`). */
  transfers: TransfersService;
  tokens: TokensService;
  audit: AuditService;
  /** In-process, or Redis when several instances share state (REDIS_URL). */
  shared: SharedState;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  /** A pre-built store (tests pass a counting or pre-loaded one). */
  store?: ObjectStore;
  /** Clock for Send (epoch ms); tests move it to expire transfers and tokens without sleeping. */
  now?: () => number;
}

/** The only place clients and services are built; both front doors and the CLI share the result. */
export function createServices(config: Config, logger: Logger, overrides: ServiceOverrides = {}): Services {
  const metrics = createMetrics();
  const shared = createSharedState(config.redis, logger);
  const store = instrumentStore(
    overrides.store ?? createStore(config.storage),
    metrics,
    logger.child({ component: "storage" }),
  );
  // Probed at first use (an upload's reference, a Send download, or /ready), then reported in the log and a metric.
  const conditionalWrites = createConditionalWriteProbe(store, config.send.systemBucket, (support) => {
    for (const [condition, on] of [
      ["if_none_match", support.ifNoneMatch],
      ["if_match", support.ifMatch],
    ] as const) {
      metrics.conditionalWrites.set({ backend: store.kind, condition }, on ? 1 : 0);
    }
    const fields = { backend: store.kind, if_none_match: support.ifNoneMatch, if_match: support.ifMatch };
    if (support.ifNoneMatch) logger.info(fields, "object store enforces conditional writes");
    else {
      logger.warn(
        fields,
        "object store ignores If-None-Match: reference creation is serialised in this process and verified after " +
          "writing; Send transfers with max_downloads > 0 are refused",
      );
    }
  });
  const deltaglider = createDeltaGlider(store, metrics, {
    conditionalWrites,
    maxRatio: config.deltaglider.maxRatio,
    referenceCacheBytes: config.deltaglider.referenceCacheBytes,
    encodeThreads: config.deltaglider.encodeThreads || undefined,
    headConcurrency: config.deltaglider.headConcurrency,
    windowBudgetBytes: config.deltaglider.windowBudgetBytes,
    logger: logger.child({ component: "deltaglider" }),
  });
  const secret = config.downloadTokenSecret ?? randomSecret();
  if (!config.downloadTokenSecret) {
    logger.warn(
      "DOWNLOAD_TOKEN_SECRET is not set: using a random one, so tokens and cursors only work on this instance",
    );
  }
  const recorders: ((change: BucketChange) => void)[] = [];
  const objects = createObjectsService(store, deltaglider, {
    secret,
    hiddenBuckets: [config.send.systemBucket],
    headConcurrency: config.deltaglider.headConcurrency,
    limiter: shared.rateLimiter(config.objectsRateLimit),
    uploadMaxBytes: config.limits.uploadMaxBytes,
    onChange: (bucket, key) => shared.changes.publish({ bucket, key }),
    onUploaded: (bucket, result) => {
      const stored = {
        physicalKey: result.physicalKey,
        etag: result.etag,
        storedBytes: result.storedBytes,
        originalBytes: result.originalBytes,
      };
      for (const recorder of recorders) recorder({ bucket, key: result.key, stored });
    },
    onDeleted: (bucket, key) => {
      for (const recorder of recorders) recorder({ bucket, key });
    },
  });
  const localSavings = createSavingsService(
    {
      catalogue: deltaglider.catalogue,
      store,
      metrics,
      logger,
      // Savings indexes live beside Send's records, so every instance (and the next process) reuses them.
      index: createIndexStore(createSystemStore(store, config.send.systemBucket)),
    },
    {
      maxConcurrentBuckets: config.savings.maxConcurrentBuckets,
      cacheTtlMs: config.savings.cacheTtlMs,
      headConcurrency: config.savings.headConcurrency,
      firstScanHeadConcurrency: config.savings.firstScanHeadConcurrency,
      hiddenBuckets: [config.send.systemBucket],
      now: overrides.now,
    },
  );
  // Several instances: one job per bucket (a Redis lease), progress and figures shared through Redis.
  const savings: SavingsFacade =
    shared.redis && config.redis
      ? createSharedSavings(localSavings, shared.redis, {
          leaseMs: config.redis.savingsLeaseMs,
          cacheTtlMs: config.savings.cacheTtlMs,
          logger,
          bucketExists: (bucket, signal) => objects.bucketExists(bucket, signal),
        })
      : localSavings;
  // Uploads and deletes (here or on another instance) drop the bucket's cached listings and savings.
  shared.changes.onChange((change, local) => {
    if (!local) objects.forget(change.bucket, change.key);
    savings.invalidate(change.bucket);
  });
  shared.changes.onResync(() => objects.forgetAll());
  // … and keep its savings index current (the instance that made the change records it).
  recorders.push((change) => savings.record(change));
  const downloads = createDownloadsService(objects, { secret, now: overrides.now });
  const send = createSendServices(config.send, store, logger, overrides.now, conditionalWrites, shared.locks);
  return {
    config,
    logger,
    metrics,
    store,
    health: createHealthService(store, undefined, conditionalWrites, shared.redis),
    deltaglider,
    objects,
    downloads,
    savings,
    ...send,
    shared,
    async close() {
      // First: running savings jobs end CANCELLED while the store can still answer their in-flight calls.
      await savings.close();
      await deltaglider.close();
      await send.transfers.close();
      await store.close();
      await shared.close();
    },
  };
}
