import type { Logger } from "pino";
import type { Config } from "../../config.js";
import { type BucketsService, createBucketsService } from "../buckets/service.js";
import { createDeltaGlider, type DeltaGlider } from "../deltaglider/index.js";
import { createDownloadsService, type DownloadsService } from "../downloads/service.js";
import type { Metrics } from "../metrics.js";
import { createObjectsService, type ObjectsService } from "../objects/service.js";
import { createRateLimiter } from "../rate-limit.js";
import type { SavingsIndexStore } from "../savings/index-store.js";
import { type BucketChange, createSavingsService } from "../savings/jobs.js";
import { createSharedSavings, type SavingsFacade } from "../savings/shared.js";
import { createLocalChangeBus } from "../shared/changes.js";
import type { SharedState } from "../shared/index.js";
import { type ConditionalWriteProbe, declaredConditionalWrites } from "../storage/conditional-writes.js";
import type { ObjectStore } from "../storage/object-store.js";

/**
 * One storage connection and everything whose data belongs to it: listing and metadata caches, savings jobs and
 * figures, bucket statistics, rate limits, download tokens. The server's own store is one connection; each session
 * with its own S3 credentials gets another, so sessions never see each other's data. Process-wide resources (encode
 * workers, decoded-window pool, reference cache) are shared through `DeltaGliderOptions.shared`.
 */
export interface Connection {
  /** "server" for the configured store, "s3:<hash>" for a session's own credentials. */
  id: string;
  store: ObjectStore;
  deltaglider: DeltaGlider;
  objects: ObjectsService;
  downloads: DownloadsService;
  savings: SavingsFacade;
  buckets: BucketsService;
  close(): Promise<void>;
}

export interface ConnectionDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Signs cursors and download tokens (one secret for every connection; tokens name their connection). */
  secret: string;
  now?: () => number;
  /** The connection whose process-wide resources this one shares (absent for the server connection). */
  shareWith?: DeltaGlider;
  /** Reference-cache scope of this store (its endpoint); different stores never share entries. */
  scope?: string;
  /** Whether the store enforces If-None-Match; default: the store's declared capability (sessions never probe). */
  conditionalWrites?: ConditionalWriteProbe;
  /** Where savings indexes persist (the server's system bucket); sessions keep theirs in memory only. */
  savingsIndex?: SavingsIndexStore;
  /** State shared by several instances (the server's connection; REDIS_URL); sessions keep theirs in process. */
  shared?: SharedState;
}

export function createConnection(id: string, store: ObjectStore, deps: ConnectionDeps): Connection {
  const { config, logger, metrics } = deps;
  const deltaglider = createDeltaGlider(store, metrics, {
    maxRatio: config.deltaglider.maxRatio,
    referenceCacheBytes: config.deltaglider.referenceCacheBytes,
    encodeThreads: config.deltaglider.encodeThreads || undefined,
    headConcurrency: config.deltaglider.headConcurrency,
    windowBudgetBytes: config.deltaglider.windowBudgetBytes,
    conditionalWrites: deps.conditionalWrites ?? declaredConditionalWrites(store),
    logger: logger.child({ component: "deltaglider", connection: id }),
    shared: deps.shareWith ? { from: deps.shareWith, scope: deps.scope ?? id } : undefined,
  });
  const hiddenBuckets = [config.send.systemBucket];
  // One change bus per connection: in-process, or (the server's connection with REDIS_URL) shared by every instance.
  const changes = deps.shared?.changes ?? createLocalChangeBus();
  const recorders: ((change: BucketChange) => void)[] = [];
  const objects = createObjectsService(store, deltaglider, {
    secret: deps.secret,
    hiddenBuckets,
    headConcurrency: config.deltaglider.headConcurrency,
    limiter:
      deps.shared?.rateLimiter(config.objectsRateLimit) ?? createRateLimiter({ perSecond: config.objectsRateLimit }),
    uploadMaxBytes: config.limits.uploadMaxBytes,
    // Cold pages take deltas' original sizes from the savings index (built below; read only on requests).
    savingsIndex: (bucket) => localSavings.index(bucket),
    onChange: (bucket, key) => changes.publish({ bucket, key }),
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
      logger: logger.child({ connection: id }),
      index: deps.savingsIndex,
    },
    {
      maxConcurrentBuckets: config.savings.maxConcurrentBuckets,
      cacheTtlMs: config.savings.cacheTtlMs,
      headConcurrency: config.savings.headConcurrency,
      firstScanHeadConcurrency: config.savings.firstScanHeadConcurrency,
      hiddenBuckets,
      now: deps.now,
    },
  );
  // Several instances: one job per bucket (a Redis lease), progress and figures shared through Redis.
  const redis = deps.shared?.redis;
  const savings: SavingsFacade =
    redis && config.redis
      ? createSharedSavings(localSavings, redis, {
          leaseMs: config.redis.savingsLeaseMs,
          cacheTtlMs: config.savings.cacheTtlMs,
          logger,
          bucketExists: (bucket, signal) => objects.bucketExists(bucket, signal),
          hiddenBuckets,
        })
      : localSavings;
  const buckets = createBucketsService(
    { store, objects, savings, catalogue: deltaglider.catalogue, deltaglider },
    { hiddenBuckets, headConcurrency: config.savings.headConcurrency, now: deps.now },
  );
  // Uploads and deletes (here or on another instance) drop the bucket's cached listings and savings; the bucket
  // figures are kept and marked stale.
  changes.onChange((change, local) => {
    if (!local) objects.forget(change.bucket, change.key);
    savings.invalidate(change.bucket);
    buckets.markStale(change.bucket);
  });
  changes.onResync(() => objects.forgetAll());
  // … and keep its savings index current (the instance that made the change records it).
  recorders.push((change) => savings.record(change));
  const downloads = createDownloadsService(objects, { secret: deps.secret, now: deps.now, connectionId: id });
  return {
    id,
    store,
    deltaglider,
    objects,
    downloads,
    savings,
    buckets,
    async close() {
      // First: running savings jobs end CANCELLED while the store can still answer their in-flight calls.
      await savings.close();
      await deltaglider.close();
      await store.close();
    },
  };
}
