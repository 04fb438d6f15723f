import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { AuditService } from "./audit/service.js";
import { createSystemStore } from "./audit/system-store.js";
import { createDeltaGlider, type DeltaGlider } from "./deltaglider/index.js";
import { createDownloadsService, type DownloadsService } from "./downloads/service.js";
import { createHealthService, type HealthService } from "./health.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createObjectsService, type ObjectsService } from "./objects/service.js";
import { createRateLimiter } from "./rate-limit.js";
import { createIndexStore } from "./savings/index-store.js";
import { type BucketChange, createSavingsService, type SavingsService } from "./savings/jobs.js";
import { randomSecret } from "./signing.js";
import { createConditionalWriteProbe } from "./storage/conditional-writes.js";
import { type GuardedStore, guardStore } from "./storage/guarded-store.js";
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
  /** Deadlines and write compensation around the store: when it last answered, cancelled writes being undone. */
  storageGuard: Omit<GuardedStore, "store">;
  health: HealthService;
  /** DeltaGlider semantics: logical listings, verified downloads, uploads, deletes. */
  deltaglider: DeltaGlider;
  /** Browsing for the UI (both front doors): cached listings, sorting, cursors, metadata, upload and delete. */
  objects: ObjectsService;
  /** Signed download tokens and the verified download stream. */
  downloads: DownloadsService;
  /** On-demand savings jobs: one scan per bucket, live progress, cached figures. */
  savings: SavingsService;
  /** Send: transfers, sender tokens and the audit trail (system bucket `config.send.systemBucket`). */
  transfers: TransfersService;
  tokens: TokensService;
  audit: AuditService;
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
  const storageLogger = logger.child({ component: "storage" });
  const guarded = guardStore(overrides.store ?? createStore(config.storage), {
    timeoutMs: config.limits.storageTimeoutMs,
    idleTimeoutMs: config.limits.storageIdleTimeoutMs,
    onCompensationFailed: (bucket, key, error) =>
      storageLogger.error({ err: error, bucket, key }, "could not undo a cancelled write"),
  });
  const store = instrumentStore(guarded.store, metrics, storageLogger);
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
  const changeListeners: ((bucket: string) => void)[] = [];
  const recorders: ((change: BucketChange) => void)[] = [];
  const objects = createObjectsService(store, deltaglider, {
    secret,
    hiddenBuckets: [config.send.systemBucket],
    headConcurrency: config.deltaglider.headConcurrency,
    limiter: createRateLimiter({ perSecond: config.objectsRateLimit }),
    uploadMaxBytes: config.limits.uploadMaxBytes,
    onChange: (bucket) => {
      for (const listener of changeListeners) listener(bucket);
    },
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
  const savings = createSavingsService(
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
  // Uploads and deletes drop the bucket's cached savings.
  changeListeners.push((bucket) => savings.invalidate(bucket));
  // … and keep its savings index current.
  recorders.push((change) => savings.record(change));
  const downloads = createDownloadsService(objects, { secret, now: overrides.now });
  const send = createSendServices(config.send, store, logger, overrides.now, conditionalWrites);
  return {
    config,
    logger,
    metrics,
    store,
    storageGuard: { lastAnswerAt: guarded.lastAnswerAt, compensations: guarded.compensations },
    health: createHealthService(store, {
      lastAnswerAt: guarded.lastAnswerAt,
      freshMs: config.limits.readyFreshMs,
      probeTimeoutMs: config.limits.readyProbeTimeoutMs,
      conditionalWrites,
    }),
    deltaglider,
    objects,
    downloads,
    savings,
    ...send,
    async close() {
      // First: running savings jobs end CANCELLED while the store can still answer their in-flight calls.
      await savings.close();
      await deltaglider.close();
      await send.transfers.close();
      await guarded.compensations.drained();
      await store.close();
    },
  };
}
