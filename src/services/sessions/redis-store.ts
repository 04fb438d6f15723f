import { randomBytes } from "node:crypto";
import { KEY_PREFIX, type SharedRedis } from "../shared/redis.js";
import type { SessionRecord, SessionStore } from "./store.js";

export interface RedisSessionStoreOptions {
  /** A session unused this long expires (its key's TTL, refreshed on every use). */
  idleMs: number;
  /** Most sessions held; beyond it the least recently used ones end (as in the in-memory store). */
  max: number;
}

const key = (id: string) => `${KEY_PREFIX}session:${id}`;
/** Session ids by last use (ms), to end the least recently used beyond `max` and to count live sessions. */
const INDEX = `${KEY_PREFIX}session-index`;

/**
 * Sessions shared by every instance (REDIS_URL): a session made on one instance works on the others, sign-out on one
 * ends it everywhere. Records hold only sealed credentials (AES-GCM with SESSION_SECRET, which every instance shares),
 * so Redis never sees a secret in the clear. Redis unreachable: sign-in and session lookups answer `unavailable`.
 */
export function createRedisSessionStore(redis: SharedRedis, options: RedisSessionStoreOptions): SessionStore {
  const { idleMs, max } = options;

  /** Drops index entries of sessions whose key expired, so the count and the cap see live sessions only. */
  async function prune(now: number) {
    await redis.run((c) => c.zremrangebyscore(INDEX, "-inf", now - idleMs));
  }

  return {
    async create(record) {
      const id = randomBytes(32).toString("base64url");
      const now = Date.now();
      await redis.run((c) => c.multi().set(key(id), JSON.stringify(record), "PX", idleMs).zadd(INDEX, now, id).exec());
      await prune(now);
      const over = (await redis.run((c) => c.zcard(INDEX))) - max;
      if (over > 0) {
        const oldest = await redis.run((c) => c.zpopmin(INDEX, over));
        const ids = oldest.filter((_, i) => i % 2 === 0);
        if (ids.length) await redis.run((c) => c.del(...ids.map(key)));
      }
      return id;
    },
    async touch(id) {
      // GETEX reads and refreshes the idle timer in one step (Redis >= 6.2).
      const raw = await redis.run((c) => c.getex(key(id), "PX", idleMs));
      if (!raw) return undefined;
      await redis.run((c) => c.zadd(INDEX, Date.now(), id));
      return { record: JSON.parse(raw) as SessionRecord, expiresInMs: idleMs };
    },
    async delete(id) {
      await redis.run((c) => c.multi().del(key(id)).zrem(INDEX, id).exec());
    },
    async size() {
      await prune(Date.now());
      return redis.run((c) => c.zcard(INDEX));
    },
  };
}
