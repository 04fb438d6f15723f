import { randomUUID } from "node:crypto";
import { createPubSub } from "@graphql-yoga/subscription";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { assertBucket, assertVisible } from "../bucket-ops/listing.js";
import type { Catalogue } from "../deltaglider/catalogue.js";
import { GliderError, isGliderError } from "../errors.js";
import type { Metrics } from "../metrics.js";
import type { ObjectStore } from "../storage/object-store.js";
import { scanBucket } from "./compute.js";
import { createIndexCache } from "./index-cache.js";
import type { SavingsIndexStore } from "./index-store.js";
import { idleSnapshot, type Job, type Phase, snapshot } from "./job.js";
import { createMailbox, type Mailbox } from "./mailbox.js";
import { createScanSlots } from "./scan-slots.js";
import {
  type BucketChange,
  type BucketSavings,
  isTerminal,
  type JobState,
  type SavingsJobRef,
  type SavingsProgress,
  type SavingsService,
  type SavingsStatus,
} from "./types.js";

export type {
  BucketChange,
  BucketSavings,
  JobState,
  SavingsJobRef,
  SavingsProgress,
  SavingsService,
  SavingsStatus,
} from "./types.js";

export interface SavingsDeps {
  catalogue: Catalogue;
  store: ObjectStore;
  metrics: Metrics;
  logger: Logger;
  /** Where savings indexes persist; without it each process keeps them in memory only. */
  index?: SavingsIndexStore;
}

export interface SavingsOptions {
  /** Buckets scanned at once; further jobs wait (reported RUNNING with no progress). @default 2 */
  maxConcurrentBuckets?: number;
  /** How long computed figures stay cached. @default 900000 (15 min, RFC-DG-UI-0002 SAVINGS_CACHE) */
  cacheTtlMs?: number;
  /** Least time between two progress events of one job: 100 means at most 10 events/s. @default 100 */
  progressIntervalMs?: number;
  /** HEAD requests in flight per scanned bucket. @default 16 */
  headConcurrency?: number;
  /** HEADs in flight when the bucket has no index yet (every delta needs one). @default 16 */
  firstScanHeadConcurrency?: number;
  /** Index changes made by uploads and deletes are written back after this long (or at the next scan, or close). @default 2000 */
  indexFlushMs?: number;
  /** Buckets that are not the UI's (Send's system bucket): `bucket_not_found`, as for a missing one. */
  hiddenBuckets?: readonly string[];
  /** Clock (epoch ms) for `computedAt` and the cache TTL; tests move it instead of sleeping. @default Date.now */
  now?: () => number;
}

type Topics = { "savings:progress": [bucket: string, event: SavingsProgress] };

const TOPIC = "savings:progress";
const METRIC_KIND = "savings";
/** Cached figures are tiny; this only bounds memory if someone scans a very large number of buckets. */
const CACHE_MAX_BUCKETS = 10_000;

/**
 * On-demand savings (RFC-DG-UI-0002 "On-Demand Savings"): at most one scan per bucket, a bounded number of buckets at
 * once, progress on a pub/sub, results in a TTL cache. Transport-free: REST, SSE and GraphQL subscriptions call it
 * 1:1.
 */
export function createSavingsService(deps: SavingsDeps, options: SavingsOptions = {}): SavingsService {
  const { catalogue, store, metrics } = deps;
  const logger = deps.logger.child({ component: "savings" });
  const maxConcurrent = Math.max(1, options.maxConcurrentBuckets ?? 2);
  const progressIntervalMs = Math.max(0, options.progressIntervalMs ?? 100);
  const now = options.now ?? Date.now;
  const hidden: readonly string[] = options.hiddenBuckets ?? [];
  const cache = new LRUCache<string, BucketSavings>({
    max: CACHE_MAX_BUCKETS,
    ttl: Math.max(1, options.cacheTtlMs ?? 900_000),
    // Our own clock, read on every access, so an injected `now` expires entries exactly.
    perf: { now },
    ttlResolution: 0,
  });
  const pubsub = createPubSub<Topics>();
  const firstScanConcurrency = options.firstScanHeadConcurrency ?? 16;
  const indexes = createIndexCache({
    store: deps.index,
    logger,
    flushMs: Math.max(0, options.indexFlushMs ?? 2000),
  });
  /** The latest job of each bucket, running or finished. */
  const jobs = new Map<string, Job>();
  const slots = createScanSlots(maxConcurrent);
  /** Open watches, ended by `close` so a shutdown is not held up by a stream waiting for a job that never comes. */
  const watchers = new Set<Mailbox>();
  let closed = false;

  for (const state of ["queued", "running"] as const) metrics.jobs.set({ kind: METRIC_KIND, state }, 0);

  function setPhase(job: Job, phase: Phase) {
    if (job.phase !== "ended") metrics.jobs.dec({ kind: METRIC_KIND, state: job.phase });
    if (phase !== "ended") metrics.jobs.inc({ kind: METRIC_KIND, state: phase });
    job.phase = phase;
  }

  function publish(job: Job) {
    clearTimeout(job.timer);
    job.timer = undefined;
    job.lastPublishedAt = performance.now();
    pubsub.publish(TOPIC, job.bucket, snapshot(job));
  }

  /** Leading- and trailing-edge throttle: at most one progress event per interval, the newest figures always sent. */
  function progressed(job: Job) {
    if (job.timer || isTerminal(job.state)) return;
    const wait = job.lastPublishedAt + progressIntervalMs - performance.now();
    if (wait <= 0) {
      publish(job);
      return;
    }
    job.timer = setTimeout(() => publish(job), wait);
    job.timer.unref();
  }

  function finish(job: Job, state: JobState, fields: { errorCode?: string; computedAt?: Date } = {}) {
    job.state = state;
    job.errorCode = fields.errorCode;
    job.computedAt = fields.computedAt;
    setPhase(job, "ended");
    publish(job);
  }

  async function run(job: Job) {
    const { signal } = job.controller;
    let slot = false;
    try {
      await slots.acquire(signal);
      slot = true;
      setPhase(job, "running");
      const started = performance.now();
      const previous = await indexes.load(job.bucket);
      const { index, heads, ...figures } = await scanBucket(catalogue, job.bucket, {
        signal,
        // Without an index every delta needs a HEAD: keep S3 busier on that one scan.
        headConcurrency: previous ? options.headConcurrency : firstScanConcurrency,
        index: previous,
        onProgress(progress) {
          job.progress = progress;
          progressed(job);
        },
      });
      signal.throwIfAborted();
      // The index stays valid even when the bucket changed during the scan: entries are checked by ETag and size.
      await indexes.keep(job.bucket, previous, index);
      const computedAt = new Date(now());
      job.progress = { ...figures, scannedObjects: figures.objectCount };
      if (job.stale) {
        logger.info({ bucket: job.bucket, taskId: job.taskId }, "bucket changed during the scan: figures not cached");
      } else {
        cache.set(job.bucket, { ...figures, computedAt });
      }
      logger.info(
        {
          bucket: job.bucket,
          taskId: job.taskId,
          ...figures,
          heads,
          duration_ms: Math.round(performance.now() - started),
        },
        "savings computed",
      );
      finish(job, "DONE", { computedAt });
    } catch (error) {
      if (signal.aborted) {
        logger.info({ bucket: job.bucket, taskId: job.taskId }, "savings job cancelled");
        finish(job, "CANCELLED");
      } else {
        const errorCode = isGliderError(error) ? error.code : "internal";
        logger.warn({ err: error, bucket: job.bucket, taskId: job.taskId, errorCode }, "savings job failed");
        finish(job, "FAILED", { errorCode });
      }
    } finally {
      if (slot) slots.release();
    }
  }

  function create(bucket: string, taskId: string = randomUUID()): Job {
    const job: Job = {
      taskId,
      bucket,
      state: "RUNNING",
      phase: "ended",
      progress: { scannedObjects: 0, objectCount: 0, originalBytes: 0, storedBytes: 0, savingsPct: 0 },
      controller: new AbortController(),
      stale: false,
      lastPublishedAt: 0,
      settled: Promise.resolve(),
    };
    setPhase(job, "queued");
    jobs.set(bucket, job);
    publish(job);
    // run() handles every failure itself; the catch is a last resort so the process never sees a rejection.
    job.settled = run(job).catch((error) => logger.error({ err: error, bucket }, "savings job crashed"));
    return job;
  }

  function runningJob(bucket: string): Job | undefined {
    const job = jobs.get(bucket);
    return job && !isTerminal(job.state) ? job : undefined;
  }

  function assertOpen() {
    if (closed) throw new GliderError("invalid_state", "the savings service is shutting down");
  }

  const ref = (job: Job): SavingsJobRef => ({ taskId: job.taskId, bucket: job.bucket, state: job.state });

  /** Starts whose bucket check is running: concurrent starts of one bucket share one HeadBucket. */
  const starting = new Map<string, Promise<SavingsJobRef>>();

  async function start(bucket: string, taskId?: string): Promise<SavingsJobRef> {
    assertOpen();
    const joined = runningJob(bucket);
    if (joined) return ref(joined);
    let pending = starting.get(bucket);
    if (!pending) {
      pending = (async () => {
        await assertBucket(store, bucket, hidden);
        // close() may have run while we checked the bucket.
        assertOpen();
        return ref(runningJob(bucket) ?? create(bucket, taskId));
      })();
      const started = pending;
      starting.set(bucket, started);
      started.finally(() => starting.delete(bucket)).catch(() => undefined);
    }
    return pending;
  }

  function status(bucket: string): SavingsStatus {
    const figures = cache.get(bucket);
    const job = jobs.get(bucket);
    const out: SavingsStatus = { pending: job !== undefined && !isTerminal(job.state) };
    if (figures) out.figures = { ...figures };
    if (job) out.job = snapshot(job);
    return out;
  }

  /**
   * An async generator's `return()` waits for a pending `next()`, so a reader that leaves while no event comes
   * (GraphQL `complete`, a closed SSE stream) would hold the subscription until the job ends. Closing the mailbox
   * first ends the pending `next()` at once.
   */
  function watch(bucket: string, signal?: AbortSignal, idle = false): AsyncIterable<SavingsProgress> {
    // A hidden bucket's jobs are nobody's business, whichever entry point asks (start and follow check too).
    assertVisible(bucket, hidden);
    return {
      [Symbol.asyncIterator]() {
        const mailbox = createMailbox();
        const events = stream(bucket, mailbox, signal, idle);
        const iterator: AsyncIterableIterator<SavingsProgress> = {
          next: () => events.next(),
          return: (value?: unknown) => {
            mailbox.close();
            return events.return(value);
          },
          throw: (error?: unknown) => {
            mailbox.close();
            return events.throw(error);
          },
          [Symbol.asyncIterator]: () => iterator,
        };
        return iterator;
      },
    };
  }

  async function follow(bucket: string, signal?: AbortSignal): Promise<AsyncIterable<SavingsProgress>> {
    await assertBucket(store, bucket, hidden, signal);
    return watch(bucket, signal, true);
  }

  async function* stream(
    bucket: string,
    mailbox: Mailbox,
    signal: AbortSignal | undefined,
    idle: boolean,
  ): AsyncGenerator<SavingsProgress> {
    if (signal?.aborted) return;
    const subscription = pubsub.subscribe(TOPIC, bucket);
    watchers.add(mailbox);
    // `for await` calls next() synchronously, which attaches the listener before the snapshot below is taken:
    // nothing published in between can be missed (both happen in this one synchronous step).
    const pump = (async () => {
      for await (const event of subscription) mailbox.put(event);
    })().catch(() => {});
    const onAbort = () => mailbox.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const current = jobs.get(bucket);
      let following = current?.taskId;
      let scanned = 0;
      /** In IDLE mode, the finished job whose result the IDLE event reported: none of its events may follow. */
      let finished: string | undefined;
      if (idle && (!current || isTerminal(current.state))) {
        yield idleSnapshot(bucket, current, cache.get(bucket));
        finished = current?.taskId;
        following = undefined;
      } else if (current) {
        const first = snapshot(current);
        scanned = first.scannedObjects;
        yield first;
        if (isTerminal(first.state)) return;
      }
      if (closed && !runningJob(bucket)) return;
      for (;;) {
        const event = await mailbox.take();
        if (!event) return;
        if (event.taskId === finished) continue;
        following ??= event.taskId;
        if (event.taskId !== following) continue;
        if (!isTerminal(event.state) && event.scannedObjects < scanned) continue;
        scanned = event.scannedObjects;
        yield event;
        if (isTerminal(event.state)) return;
      }
    } finally {
      watchers.delete(mailbox);
      signal?.removeEventListener("abort", onAbort);
      await subscription.return();
      await pump;
    }
  }

  function cancel(bucket: string): boolean {
    const job = runningJob(bucket);
    if (!job) return false;
    job.controller.abort(new GliderError("invalid_state", "savings job cancelled", { bucket, taskId: job.taskId }));
    return true;
  }

  function invalidate(bucket: string): void {
    cache.delete(bucket);
    const job = runningJob(bucket);
    if (job) job.stale = true;
  }

  function record(change: BucketChange): void {
    invalidate(change.bucket);
    indexes.apply(change);
  }

  async function close(): Promise<void> {
    closed = true;
    indexes.stopTimer();
    const settling: Promise<void>[] = [];
    for (const job of jobs.values()) {
      if (isTerminal(job.state)) continue;
      job.controller.abort(new GliderError("invalid_state", "savings job cancelled: shutting down"));
      settling.push(job.settled);
    }
    await Promise.all(settling);
    // The pub/sub delivers in microtasks: after this turn every terminal event sits in its watch's mailbox. Watches
    // then end once drained; the others were waiting for a job that cannot start any more.
    await new Promise((resolve) => setImmediate(resolve));
    for (const mailbox of watchers) mailbox.end();
    await indexes.drain();
  }

  return {
    start,
    status,
    watch: (bucket, signal) => watch(bucket, signal),
    follow,
    cancel,
    invalidate,
    record,
    index: (bucket) => indexes.load(bucket),
    close,
  };
}
