import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import { GliderError } from "../errors.js";
import { KEY_PREFIX, type SharedRedis } from "./redis.js";

/**
 * Mutual exclusion by name for read-modify-write of Send records (a transfer, a token). In-process: a promise chain
 * per name (one instance). With Redis: the same chain first (an instance queues its own callers locally), then a
 * Redis lease `SET NX PX` renewed while `fn` runs, so instances never interleave on one record.
 */
export interface LockService {
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Whether this process runs or queues a `withLock` of that name (the sweeper skips busy records). */
  isLocked(name: string): boolean;
}

export function createLocalLocks(): LockService {
  const locks = new Map<string, Promise<unknown>>();
  return {
    async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const previous = locks.get(name) ?? Promise.resolve();
      const run = previous.then(fn, fn);
      const settled = run.then(
        () => undefined,
        () => undefined,
      );
      locks.set(name, settled);
      try {
        return await run;
      } finally {
        if (locks.get(name) === settled) locks.delete(name);
      }
    },
    isLocked: (name) => locks.has(name),
  };
}

/** Deletes or extends the lock only while it still holds our token (another holder's lock is never touched). */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

export interface RedisLockOptions {
  /** Lease of one holder; renewed every third of it while `fn` runs. @default 10000 */
  leaseMs?: number;
  /** Longest wait for a lock held elsewhere before `conflict`. @default 15000 */
  waitMs?: number;
}

export function createRedisLocks(redis: SharedRedis, logger: Logger, options: RedisLockOptions = {}): LockService {
  const local = createLocalLocks();
  const leaseMs = options.leaseMs ?? 10_000;
  const waitMs = options.waitMs ?? 15_000;
  const log = logger.child({ component: "locks" });

  async function acquire(key: string, token: string): Promise<void> {
    const deadline = performance.now() + waitMs;
    let pause = 2;
    for (;;) {
      const ok = await redis.run((c) => c.set(key, token, "PX", leaseMs, "NX"));
      if (ok === "OK") return;
      if (performance.now() >= deadline) {
        throw new GliderError("conflict", "the record is busy on another instance; try again", { lock: key });
      }
      // Held by another instance: back off (2 → 50 ms) and try again until the deadline.
      await delay(pause);
      pause = Math.min(50, pause * 2);
    }
  }

  return {
    withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
      return local.withLock(name, async () => {
        const key = `${KEY_PREFIX}lock:${name}`;
        const token = randomUUID();
        await acquire(key, token);
        const renew = setInterval(() => {
          redis
            .run((c) => c.eval(RENEW, 1, key, token, leaseMs))
            .then((kept) => {
              if (kept !== 1) log.error({ lock: name }, "lost a Redis lock while holding it");
            })
            .catch(() => {});
        }, leaseMs / 3);
        renew.unref();
        try {
          return await fn();
        } finally {
          clearInterval(renew);
          // If Redis is gone now, the lease simply expires.
          await redis.run((c) => c.eval(RELEASE, 1, key, token)).catch(() => {});
        }
      });
    },
    isLocked: local.isLocked,
  };
}
