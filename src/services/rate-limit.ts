import { LRUCache } from "lru-cache";
import { GliderError } from "./errors.js";

/** Per-client request limit (RFC: objects listing ≤ 10 req/s per IP), shared by REST and GraphQL. */
export interface RateLimiter {
  /** Spends one request of `client`, or throws `throttled` with the seconds until one is available. */
  take(client: string, what?: string): void | Promise<void>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token bucket per client (RFC: objects listing ≤ 10 req/s per IP), shared by REST and GraphQL. */
export function createRateLimiter(options: { perSecond: number; burst?: number; now?: () => number }): RateLimiter {
  const perSecond = options.perSecond;
  const burst = options.burst ?? perSecond;
  const now = options.now ?? (() => performance.now());
  const buckets = new LRUCache<string, Bucket>({ max: 10_000 });
  return {
    /** Spends one token of `client`, or throws `throttled` with the seconds until one is available. */
    take(client: string, what = "request"): void {
      if (perSecond <= 0) return;
      const t = now();
      const bucket = buckets.get(client) ?? { tokens: burst, updatedAt: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.updatedAt) / 1000) * perSecond);
      bucket.updatedAt = t;
      buckets.set(client, bucket);
      if (bucket.tokens < 1) {
        const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
        throw new GliderError("throttled", `too many ${what}s: at most ${perSecond} per second`, { retryAfterSeconds });
      }
      bucket.tokens -= 1;
    },
  };
}
