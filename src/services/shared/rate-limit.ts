import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { GliderError } from "../errors.js";
import type { RateLimiter } from "../rate-limit.js";
import { KEY_PREFIX, type SharedRedis } from "./redis.js";

/**
 * The listing limit counted in Redis (rate-limiter-flexible, one-second windows), so it holds whatever instance
 * answers. While Redis is unreachable each instance counts on its own (the library's insurance limiter) rather than
 * refusing reads.
 */
export function createRedisRateLimiter(redis: SharedRedis, options: { perSecond: number }): RateLimiter {
  const { perSecond } = options;
  if (perSecond <= 0) return { take() {} };
  const limiter = new RateLimiterRedis({
    storeClient: redis.client,
    keyPrefix: `${KEY_PREFIX}rate`,
    points: perSecond,
    duration: 1,
    insuranceLimiter: new RateLimiterMemory({ points: perSecond, duration: 1 }),
  });
  return {
    async take(client, what = "request") {
      try {
        await limiter.consume(client);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
          throw new GliderError("throttled", `too many ${what}s: at most ${perSecond} per second`, {
            retryAfterSeconds,
          });
        }
        throw rejection;
      }
    },
  };
}
