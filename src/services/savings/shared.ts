import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { assertVisible, notFound } from "../bucket-ops/listing.js";
import { isGliderError } from "../errors.js";
import { KEY_PREFIX, type SharedRedis, unavailable } from "../shared/redis.js";
import { idleSnapshot } from "./job.js";
import { createMailbox, type Mailbox } from "./mailbox.js";
import {
  type BucketSavings,
  isTerminal,
  type SavingsJobRef,
  type SavingsProgress,
  type SavingsService,
  type SavingsStatus,
} from "./types.js";

/** A watch's mailbox, tagged with the bucket it follows. */
interface Queue extends Mailbox {
  readonly bucket: string;
}

/**
 * What the front doors call: the in-process service, or the shared one whose `status` reads Redis (hence async).
 */
export interface SavingsFacade extends Omit<SavingsService, "status"> {
  status(bucket: string): SavingsStatus | Promise<SavingsStatus>;
}

export interface SharedSavingsOptions {
  /** A holder that stops renewing its lease for this long loses the job to another instance. @default 30000 */
  leaseMs: number;
  /** How long computed figures stay in Redis (SAVINGS_CACHE_TTL_MS). */
  cacheTtlMs: number;
  logger: Logger;
  /** Whether a visible bucket exists (`follow` answers `bucket_not_found` otherwise). */
  bucketExists(bucket: string, signal?: AbortSignal): Promise<boolean>;
  /** Buckets answered as missing (Send's system bucket): `start` and `watch` refuse them too. */
  hiddenBuckets?: readonly string[];
}

const key = {
  lease: (bucket: string) => `${KEY_PREFIX}savings:lease:${bucket}`,
  job: (bucket: string) => `${KEY_PREFIX}savings:job:${bucket}`,
  figures: (bucket: string) => `${KEY_PREFIX}savings:figures:${bucket}`,
};
const PROGRESS = "savings:progress";
const CONTROL = "savings:control";
/** The last event of a bucket's job stays readable this long (status, late subscribers). */
const JOB_TTL_MS = 86_400_000;

const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

interface Lease {
  taskId: string;
  owner: string;
}

/** Events cross Redis as JSON: `computedAt` comes back as an ISO string. */
function revive(raw: unknown): SavingsProgress | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const event = raw as SavingsProgress & { computedAt?: Date | string };
  if (typeof event.taskId !== "string" || typeof event.bucket !== "string") return undefined;
  if (event.computedAt !== undefined) event.computedAt = new Date(event.computedAt);
  return event;
}

function parse<T>(raw: string | null): T | undefined {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

/**
 * Savings jobs shared by every instance on one Redis (README "Running several instances"):
 * - one job per bucket: the instance that wins `SET lease NX PX` scans (with the local service), renews the lease
 *   every third of `leaseMs` and releases it at the end; the others join its `taskId`;
 * - the holder publishes each event once on `savings:progress` (throttled by the local service) and keeps the latest
 *   in `savings:job:<bucket>`; every instance's `watch` reads that snapshot, then the channel;
 * - DONE figures go to `savings:figures:<bucket>` (TTL SAVINGS_CACHE_TTL_MS), so `status` agrees everywhere;
 * - takeover: every instance remembers the buckets whose job it saw running; when such a lease is gone before a
 *   terminal event (the holder died), one instance wins the lease again and scans under the same `taskId`, so the
 *   subscribers following that id see it finish.
 */
export function createSharedSavings(
  local: SavingsService,
  redis: SharedRedis,
  options: SharedSavingsOptions,
): SavingsFacade {
  const { leaseMs, cacheTtlMs } = options;
  const log = options.logger.child({ component: "savings-shared" });
  /** Jobs this instance holds the lease of, by bucket. */
  const held = new Map<string, { lease: string; taskId: string; stale: boolean; lost: boolean }>();
  /** Buckets whose job was seen running (any instance), with its task id: candidates for a takeover. */
  const running = new Map<string, string>();
  const watchers = new Set<Queue>();
  const pendingStatus = new Map<string, Promise<SavingsStatus>>();
  let closed = false;

  redis.subscribe(PROGRESS, (message) => {
    const event = revive(message);
    if (!event) return;
    if (isTerminal(event.state)) running.delete(event.bucket);
    else running.set(event.bucket, event.taskId);
    for (const queue of watchers) if (queue.bucket === event.bucket) queue.put(event);
  });
  redis.subscribe(CONTROL, (message) => {
    const m = message as { type?: string; bucket?: string };
    if (typeof m.bucket !== "string") return;
    if (m.type === "cancel" && held.has(m.bucket)) local.cancel(m.bucket);
  });

  // Takeover: a job seen running whose lease is gone (its holder died) is started again here under its task id.
  const watchdog = setInterval(
    () => {
      for (const [bucket, taskId] of running) {
        if (held.has(bucket)) continue;
        redis
          .run((c) => c.exists(key.lease(bucket)))
          .then((exists) => {
            if (exists || closed || running.get(bucket) !== taskId) return;
            log.warn({ bucket, taskId }, "savings job lost its holder: taking it over");
            return acquire(bucket, taskId).then(() => undefined);
          })
          .catch((error) => {
            // A bucket deleted meanwhile has no job to finish; Redis being away is retried on the next tick.
            if (isGliderError(error) && error.code === "bucket_not_found") running.delete(bucket);
            else log.warn({ err: error, bucket }, "savings takeover failed; retrying");
          });
      }
    },
    Math.max(100, Math.floor(leaseMs / 3)),
  );
  watchdog.unref();

  async function publish(event: SavingsProgress): Promise<void> {
    await redis.run((c) => c.multi().set(key.job(event.bucket), JSON.stringify(event), "PX", JOB_TTL_MS).exec());
    await redis.publish(PROGRESS, event);
  }

  /** Runs the local scan as the lease holder: forwards its events, renews the lease, stores DONE figures. */
  async function hold(bucket: string, lease: string, taskId: string): Promise<void> {
    const entry = { lease, taskId, stale: false, lost: false };
    held.set(bucket, entry);
    let renewedAt = performance.now();
    const renew = setInterval(
      () => {
        redis
          .run((c) => c.eval(RENEW, 1, key.lease(bucket), lease, leaseMs))
          .then((kept) => {
            if (kept === 1) {
              renewedAt = performance.now();
              return;
            }
            entry.lost = true;
          })
          .catch(() => {
            // Redis unreachable: once the lease may have expired, another instance may scan; stop ours.
            if (performance.now() - renewedAt > (leaseMs * 2) / 3) entry.lost = true;
          })
          .finally(() => {
            if (entry.lost) {
              log.warn({ bucket, taskId }, "savings lease lost: stopping this instance's scan");
              local.cancel(bucket);
            }
          });
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    renew.unref();
    try {
      for await (const event of local.watch(bucket)) {
        if (event.taskId !== taskId) continue;
        // A lost lease, or a shutdown's cancellation: the next holder finishes the job, so no terminal event here.
        if (entry.lost || (closed && event.state === "CANCELLED")) break;
        if (event.state === "DONE" && !entry.stale) {
          const figures: BucketSavings = {
            objectCount: event.objectCount,
            originalBytes: event.originalBytes,
            storedBytes: event.storedBytes,
            savingsPct: event.savingsPct,
            computedAt: event.computedAt ?? new Date(),
          };
          await redis
            .run((c) => c.set(key.figures(bucket), JSON.stringify(figures), "PX", cacheTtlMs))
            .catch((error) => log.warn({ err: error, bucket }, "could not store savings figures"));
        }
        // The lease goes first on a terminal event, so `pending` is false everywhere once DONE arrives.
        if (isTerminal(event.state))
          await redis.run((c) => c.eval(RELEASE, 1, key.lease(bucket), lease)).catch(() => {});
        await publish(event).catch((error) => log.warn({ err: error, bucket }, "could not publish savings progress"));
        if (isTerminal(event.state)) break;
      }
    } finally {
      clearInterval(renew);
      held.delete(bucket);
      await redis.run((c) => c.eval(RELEASE, 1, key.lease(bucket), lease)).catch(() => {});
    }
  }

  /** Takes the lease (a new job, or `taskId` taken over) and starts the scan; joins the holder when it is taken. */
  async function acquire(bucket: string, taskId: string): Promise<SavingsJobRef | undefined> {
    const lease = JSON.stringify({ taskId, owner: redis.instanceId } satisfies Lease);
    const won = await redis.run((c) => c.set(key.lease(bucket), lease, "PX", leaseMs, "NX"));
    if (won !== "OK") return undefined;
    let ref: SavingsJobRef;
    try {
      ref = await local.start(bucket, taskId);
    } catch (error) {
      await redis.run((c) => c.eval(RELEASE, 1, key.lease(bucket), lease)).catch(() => {});
      throw error;
    }
    running.set(bucket, ref.taskId);
    hold(bucket, lease, ref.taskId).catch((error) => log.error({ err: error, bucket }, "savings holder failed"));
    return ref;
  }

  async function start(bucket: string): Promise<SavingsJobRef> {
    // Before the lease is read: another instance's running job must not reveal a hidden bucket either.
    assertVisible(bucket, options.hiddenBuckets ?? []);
    if (closed) return local.start(bucket);
    for (let attempt = 0; attempt < 5; attempt++) {
      const [leaseRaw, jobRaw] = await redis.run((c) => c.mget(key.lease(bucket), key.job(bucket)));
      const lease = parse<Lease>(leaseRaw);
      if (lease) return { taskId: lease.taskId, bucket, state: "RUNNING" };
      // No holder. A job that never ended (its holder died, nobody took over yet) continues under its id.
      const last = revive(parse(jobRaw));
      const taskId = last && !isTerminal(last.state) ? last.taskId : randomUUID();
      const ref = await acquire(bucket, taskId);
      if (ref) return ref;
      // Another instance won the lease meanwhile: join it.
    }
    throw unavailable();
  }

  async function readStatus(bucket: string): Promise<SavingsStatus> {
    try {
      const [[, leaseExists], [, values]] = (await redis.run((c) =>
        c.multi().exists(key.lease(bucket)).mget(key.figures(bucket), key.job(bucket)).exec(),
      )) as [[unknown, number], [unknown, (string | null)[]]];
      const out: SavingsStatus = { pending: leaseExists === 1 };
      const figures = parse<BucketSavings & { computedAt: string }>(values[0]);
      if (figures) out.figures = { ...figures, computedAt: new Date(figures.computedAt) };
      const job = revive(parse(values[1]));
      if (job) out.job = job;
      return out;
    } catch (error) {
      // Redis unreachable: the bucket list still answers, from this instance's own figures.
      if (isGliderError(error) && error.code === "unavailable") return local.status(bucket);
      throw error;
    }
  }

  function status(bucket: string): Promise<SavingsStatus> {
    // One round trip for the several fields a GraphQL bucket resolves at once.
    let pending = pendingStatus.get(bucket);
    if (!pending) {
      pending = readStatus(bucket).finally(() => pendingStatus.delete(bucket));
      pendingStatus.set(bucket, pending);
    }
    return pending;
  }

  function watch(bucket: string, signal?: AbortSignal, idle = false): AsyncIterable<SavingsProgress> {
    assertVisible(bucket, options.hiddenBuckets ?? []);
    return {
      [Symbol.asyncIterator]() {
        const queue: Queue = { ...createMailbox(), bucket };
        const events = stream(queue, signal, idle);
        const iterator: AsyncIterableIterator<SavingsProgress> = {
          next: () => events.next(),
          return: (value?: unknown) => {
            queue.close();
            return events.return(value);
          },
          throw: (error?: unknown) => {
            queue.close();
            return events.throw(error);
          },
          [Symbol.asyncIterator]: () => iterator,
        };
        return iterator;
      },
    };
  }

  async function follow(bucket: string, signal?: AbortSignal): Promise<AsyncIterable<SavingsProgress>> {
    assertVisible(bucket, options.hiddenBuckets ?? []);
    if (!(await options.bucketExists(bucket, signal))) throw notFound(bucket);
    return watch(bucket, signal, true);
  }

  /** The IDLE event (no job runs): the figures every instance reads, or zeros. */
  async function idleEvent(bucket: string, last: SavingsProgress | undefined): Promise<SavingsProgress> {
    return idleSnapshot(bucket, last, (await readStatus(bucket)).figures);
  }

  async function* stream(
    queue: Queue,
    signal: AbortSignal | undefined,
    idle: boolean,
  ): AsyncGenerator<SavingsProgress> {
    if (signal?.aborted) return;
    // Listen first, then read the snapshot: an event published in between is in the queue (older ones are dropped).
    watchers.add(queue);
    const onAbort = () => queue.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const current = revive(parse(await redis.run((c) => c.get(key.job(queue.bucket)))));
      let following = current?.taskId;
      let scanned = 0;
      // A job that started before this instance saw any of its events is still a takeover candidate.
      if (current && !isTerminal(current.state) && !running.has(current.bucket)) {
        running.set(current.bucket, current.taskId);
      }
      /** In IDLE mode, the finished job whose result the IDLE event reported: none of its events may follow. */
      let finished: string | undefined;
      if (idle && (!current || isTerminal(current.state))) {
        yield await idleEvent(queue.bucket, current);
        finished = current?.taskId;
        following = undefined;
      } else if (current) {
        scanned = current.scannedObjects;
        yield current;
        if (isTerminal(current.state)) return;
      }
      for (;;) {
        const event = await queue.take();
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
      watchers.delete(queue);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  function cancel(bucket: string): boolean {
    redis.publish(CONTROL, { type: "cancel", bucket }).catch(() => {});
    return local.cancel(bucket) || running.has(bucket);
  }

  function invalidate(bucket: string): void {
    local.invalidate(bucket);
    const entry = held.get(bucket);
    if (entry) entry.stale = true;
    redis.run((c) => c.del(key.figures(bucket))).catch(() => {});
  }

  async function close(): Promise<void> {
    if (closed) return local.close();
    closed = true;
    clearInterval(watchdog);
    // Held jobs end CANCELLED locally without a terminal event: their lease is released and another instance's
    // watchdog takes them over.
    await local.close();
    for (const queue of watchers) queue.end();
  }

  return {
    start,
    status,
    watch: (bucket, signal) => watch(bucket, signal),
    follow,
    cancel,
    invalidate,
    // The index is validated against LIST on every scan, so the instance that made the change records it alone.
    record: (change) => local.record(change),
    // Each instance reads the index from the store; it is validated against LIST wherever it is used.
    index: (bucket) => local.index(bucket),
    close,
  };
}
