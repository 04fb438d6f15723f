import { randomUUID } from "node:crypto";
import { createPubSub } from "@graphql-yoga/subscription";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { assertBucket, assertVisible } from "../bucket-ops/listing.js";
import type { Catalogue } from "../deltaglider/catalogue.js";
import { DELTA_SUFFIX } from "../deltaglider/keys.js";
import { GliderError, isGliderError } from "../errors.js";
import type { Metrics } from "../metrics.js";
import type { ObjectStore } from "../storage/object-store.js";
import { type ScanProgress, scanBucket } from "./compute.js";
import type { IndexEntry, SavingsIndex, SavingsIndexStore } from "./index-store.js";
import { type BucketSavings, isTerminal, type JobState, type SavingsProgress } from "./types.js";

export type { BucketSavings, JobState, SavingsProgress } from "./types.js";

export interface SavingsDeps {
  catalogue: Catalogue;
  store: ObjectStore;
  metrics: Metrics;
  logger: Logger;
  /** Where savings indexes persist; without it each process keeps them in memory only. */
  index?: SavingsIndexStore;
}

/** What Glider itself changed in a bucket, so the index follows without a HEAD on the next scan. */
export interface BucketChange {
  bucket: string;
  /** The logical key uploaded or deleted. */
  key: string;
  /** For uploads: the physical object now holding the key. */
  stored?: { physicalKey: string; etag?: string; storedBytes: number; originalBytes: number };
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

/** Returned by `start`: the job that now runs for the bucket (a new one, or the one it joined). */
export interface SavingsJobRef {
  taskId: string;
  bucket: string;
  state: JobState;
}

export interface SavingsStatus {
  /** Figures of the last successful scan; undefined when never computed, expired or invalidated. */
  figures?: BucketSavings;
  /** A job for the bucket is queued or running. */
  pending: boolean;
  /** The bucket's latest job (running or finished), if any. */
  job?: SavingsProgress;
}

export interface SavingsService {
  /**
   * Starts (or joins) the bucket's job; `bucket_not_found` for a missing or hidden bucket. Returns once the job is registered:
   * the scan runs off the request path. `taskId` names a new job (several instances: the id of the job taken over).
   */
  start(bucket: string, taskId?: string): Promise<SavingsJobRef>;
  /** Cached figures (undefined when never computed or expired) and whether a job is running. */
  status(bucket: string): SavingsStatus;
  /**
   * The bucket's latest job as a stream: its current state first (nothing if the bucket never had a job: then the
   * next job is followed), then progress (≤ one event per `progressIntervalMs`, a slow reader gets the newest), then
   * exactly one terminal event. Ends after the terminal event, when `signal` aborts, or when the reader returns.
   * Throws `bucket_not_found` at once for a hidden bucket.
   */
  watch(bucket: string, signal?: AbortSignal): AsyncIterable<SavingsProgress>;
  /**
   * What a subscriber sees (GraphQL `savingsProgress`): the running job's progress first, or, while no job runs, one
   * IDLE event with the last result (zeros when none is cached); then the progress of the running or next job and its
   * one terminal event. Rejects with `bucket_not_found` for a missing or hidden bucket.
   */
  follow(bucket: string, signal?: AbortSignal): Promise<AsyncIterable<SavingsProgress>>;
  /** Cancels the bucket's queued or running job (it ends CANCELLED); false when none was running. */
  cancel(bucket: string): boolean;
  /** Drops cached figures (uploads and deletes call this); a scan running meanwhile is not cached when it ends. */
  invalidate(bucket: string): void;
  /** Records an upload or delete of Glider's own in the bucket's index (and drops its cached figures). */
  record(change: BucketChange): void;
  /** Refuses new jobs, cancels running ones (CANCELLED) and waits for them to settle. */
  close(): Promise<void>;
}

type Phase = "queued" | "running" | "ended";

interface Job {
  taskId: string;
  bucket: string;
  state: JobState;
  phase: Phase;
  progress: ScanProgress;
  errorCode?: string;
  computedAt?: Date;
  controller: AbortController;
  /** `invalidate` was called while the job ran: its figures may predate the change. */
  stale: boolean;
  lastPublishedAt: number;
  timer?: NodeJS.Timeout;
  settled: Promise<void>;
}

type Topics = { "savings:progress": [bucket: string, event: SavingsProgress] };

const TOPIC = "savings:progress";
const METRIC_KIND = "savings";
/** Cached figures are tiny; this only bounds memory if someone scans a very large number of buckets. */
const CACHE_MAX_BUCKETS = 10_000;
/** Indexes held in memory (each ~100 bytes per object); the others are read from the index store when scanned. */
const INDEXES_IN_MEMORY = 16;

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
  const indexFlushMs = Math.max(0, options.indexFlushMs ?? 2000);
  /** Indexes of recently scanned buckets; the index store holds every bucket's. */
  const indexes = new LRUCache<string, SavingsIndex>({ max: INDEXES_IN_MEMORY });
  /** Buckets whose in-memory index has changes (uploads, deletes) not written back yet. */
  const dirty = new Set<string>();
  let flushTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  /** The latest job of each bucket, running or finished. */
  const jobs = new Map<string, Job>();
  const waiting: { grant(): void }[] = [];
  /** Open watches, ended by `close` so a shutdown is not held up by a stream waiting for a job that never comes. */
  const watchers = new Set<Mailbox>();
  let active = 0;
  let closed = false;

  for (const state of ["queued", "running"] as const) metrics.jobs.set({ kind: METRIC_KIND, state }, 0);

  function setPhase(job: Job, phase: Phase) {
    if (job.phase !== "ended") metrics.jobs.dec({ kind: METRIC_KIND, state: job.phase });
    if (phase !== "ended") metrics.jobs.inc({ kind: METRIC_KIND, state: phase });
    job.phase = phase;
  }

  function snapshot(job: Job): SavingsProgress {
    const { progress } = job;
    const discarded = job.state === "FAILED" || job.state === "CANCELLED";
    const event: SavingsProgress = {
      taskId: job.taskId,
      bucket: job.bucket,
      state: job.state,
      scannedObjects: progress.scannedObjects,
      objectCount: discarded ? 0 : progress.objectCount,
      originalBytes: discarded ? 0 : progress.originalBytes,
      storedBytes: discarded ? 0 : progress.storedBytes,
      savingsPct: discarded ? 0 : progress.savingsPct,
    };
    if (job.errorCode !== undefined) event.errorCode = job.errorCode;
    if (job.computedAt !== undefined) event.computedAt = job.computedAt;
    return event;
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

  /** Waits for a scan slot; rejects with the signal's reason if the job is cancelled while queued. */
  function acquireSlot(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (active < maxConcurrent) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant() {
          signal.removeEventListener("abort", onAbort);
          active++;
          resolve();
        },
      };
      const onAbort = () => {
        waiting.splice(waiting.indexOf(entry), 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      waiting.push(entry);
    });
  }

  function releaseSlot() {
    active--;
    waiting.shift()?.grant();
  }

  /** The bucket's index: in memory, else from the store; unreadable means none (the scan HEADs every delta). */
  async function loadIndex(bucket: string): Promise<SavingsIndex | undefined> {
    const held = indexes.get(bucket);
    if (held || !deps.index) return held;
    try {
      const loaded = await deps.index.load(bucket);
      if (loaded) indexes.set(bucket, loaded);
      return loaded;
    } catch (error) {
      logger.warn({ err: error, bucket }, "savings index unreadable: scanning without it");
      return undefined;
    }
  }

  /** Writes an index back; a failure only costs HEADs on the next scan, so it is logged, not raised. */
  async function saveIndex(bucket: string, index: SavingsIndex): Promise<void> {
    dirty.delete(bucket);
    if (!deps.index) return;
    try {
      await deps.index.save(bucket, index);
    } catch (error) {
      logger.warn({ err: error, bucket }, "savings index not written: the next scan HEADs what it cannot reuse");
    }
  }

  async function flushDirty(): Promise<void> {
    for (const bucket of [...dirty]) {
      const index = indexes.get(bucket);
      if (index) await saveIndex(bucket, index);
      else dirty.delete(bucket);
    }
  }

  function scheduleFlush() {
    if (flushTimer || !deps.index) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      flushing = flushing.then(flushDirty);
    }, indexFlushMs);
    flushTimer.unref();
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
      await acquireSlot(signal);
      slot = true;
      setPhase(job, "running");
      const started = performance.now();
      const previous = await loadIndex(job.bucket);
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
      indexes.set(job.bucket, index);
      if (!previous || !sameIndex(previous, index)) await saveIndex(job.bucket, index);
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
      if (slot) releaseSlot();
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

  /** The IDLE event: no job runs; the last cached result, or zeros. */
  function idleSnapshot(bucket: string, last: Job | undefined): SavingsProgress {
    const figures = cache.get(bucket);
    const event: SavingsProgress = {
      taskId: last?.taskId ?? "",
      bucket,
      state: "IDLE",
      scannedObjects: figures?.objectCount ?? 0,
      objectCount: figures?.objectCount ?? 0,
      originalBytes: figures?.originalBytes ?? 0,
      storedBytes: figures?.storedBytes ?? 0,
      savingsPct: figures?.savingsPct ?? 0,
    };
    if (figures) event.computedAt = figures.computedAt;
    return event;
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
        yield idleSnapshot(bucket, current);
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
    const index = indexes.get(change.bucket);
    if (!index) return;
    // The logical key is now held by at most one physical object (uploads replace the other form, §4).
    index.delete(change.key);
    index.delete(`${change.key}${DELTA_SUFFIX}`);
    const stored = change.stored;
    if (stored?.etag) {
      index.set(stored.physicalKey, {
        etag: stored.etag,
        storedBytes: stored.storedBytes,
        originalBytes: stored.originalBytes,
      });
    }
    dirty.add(change.bucket);
    scheduleFlush();
  }

  async function close(): Promise<void> {
    closed = true;
    clearTimeout(flushTimer);
    flushTimer = undefined;
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
    await flushing;
    await flushDirty();
  }

  return { start, status, watch: (bucket, signal) => watch(bucket, signal), follow, cancel, invalidate, record, close };
}

function sameIndex(a: SavingsIndex, b: SavingsIndex): boolean {
  if (a.size !== b.size) return false;
  for (const [key, x] of b) {
    const y: IndexEntry | undefined = a.get(key);
    if (
      !y ||
      y.etag !== x.etag ||
      y.storedBytes !== x.storedBytes ||
      y.originalBytes !== x.originalBytes ||
      y.modified !== x.modified
    ) {
      return false;
    }
  }
  return true;
}

type Mailbox = ReturnType<typeof createMailbox>;

/**
 * Events between the pub/sub and a reader that may be slow: progress is cumulative, so an unread progress event is
 * replaced by a newer one of the same job; terminal events are never dropped. Holds at most a few events.
 */
function createMailbox() {
  const queue: SavingsProgress[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let ending = false;
  return {
    put(event: SavingsProgress) {
      if (closed) return;
      const last = queue.at(-1);
      if (last && !isTerminal(last.state) && !isTerminal(event.state) && last.taskId === event.taskId) {
        queue[queue.length - 1] = event;
      } else {
        queue.push(event);
      }
      wake?.();
    },
    /** Ends now, dropping what is unread (the reader went away). */
    close() {
      closed = true;
      wake?.();
    },
    /** Ends once what is queued has been read. */
    end() {
      ending = true;
      wake?.();
    },
    /** The next event, or undefined once closed (or ended and drained). */
    async take(): Promise<SavingsProgress | undefined> {
      while (!closed && !ending && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      return closed ? undefined : queue.shift();
    },
  };
}
