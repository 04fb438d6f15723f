import type { Logger } from "pino";
import type { RedisConfig } from "../../config.js";
import { createRateLimiter, type RateLimiter } from "../rate-limit.js";
import { type ChangeBus, createLocalChangeBus, createRedisChangeBus } from "./changes.js";
import { createLocalLocks, createRedisLocks, type LockService } from "./locks.js";
import { createRedisRateLimiter } from "./rate-limit.js";
import { createSharedRedis, type SharedRedis } from "./redis.js";

/**
 * What several instances share. Without REDIS_URL everything is in-process (one instance, as before); with it each
 * piece has a Redis implementation behind the same interface. Chosen once, in `createServices`.
 */
export interface SharedState {
  kind: "local" | "redis";
  /** The Redis connection, when configured (readiness, savings). */
  redis?: SharedRedis;
  locks: LockService;
  changes: ChangeBus;
  rateLimiter(perSecond: number): RateLimiter;
  close(): Promise<void>;
}

export function createSharedState(config: RedisConfig | undefined, logger: Logger): SharedState {
  if (!config) {
    return {
      kind: "local",
      locks: createLocalLocks(),
      changes: createLocalChangeBus(),
      rateLimiter: (perSecond) => createRateLimiter({ perSecond }),
      close: async () => {},
    };
  }
  const redis = createSharedRedis(config.url, logger);
  return {
    kind: "redis",
    redis,
    locks: createRedisLocks(redis, logger),
    changes: createRedisChangeBus(redis, logger),
    rateLimiter: (perSecond) => createRedisRateLimiter(redis, { perSecond }),
    close: () => redis.close(),
  };
}
