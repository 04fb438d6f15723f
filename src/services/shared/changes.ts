import type { Logger } from "pino";
import type { SharedRedis } from "./redis.js";

/** A write that makes cached listings, metadata and savings figures of a bucket stale. */
export interface Change {
  bucket: string;
  key?: string;
}

/**
 * Tells every instance about uploads and deletes so each drops its caches. In-process: the listeners are called at
 * once. With Redis: they are called here at once and on every other instance through pub/sub (channel `changes`).
 * When the subscription comes back after Redis was unreachable, `onResync` runs: changes may have been missed, so
 * the caches are dropped whole.
 */
export interface ChangeBus {
  publish(change: Change): void;
  /** `local`: the change happened in this process; remote ones arrive from other instances. */
  onChange(listener: (change: Change, local: boolean) => void): void;
  onResync(listener: () => void): void;
}

export function createLocalChangeBus(): ChangeBus {
  const listeners: ((change: Change, local: boolean) => void)[] = [];
  return {
    publish(change) {
      for (const listener of listeners) listener(change, true);
    },
    onChange: (listener) => listeners.push(listener),
    onResync: () => {},
  };
}

const CHANNEL = "changes";

export function createRedisChangeBus(redis: SharedRedis, logger: Logger): ChangeBus {
  const local = createLocalChangeBus();
  const listeners: ((change: Change, local: boolean) => void)[] = [];
  const resyncs: (() => void)[] = [];
  local.onChange((change) => {
    for (const listener of listeners) listener(change, true);
  });
  redis.subscribe(CHANNEL, (message) => {
    const m = message as { from?: string; bucket?: unknown; key?: unknown };
    if (m.from === redis.instanceId || typeof m.bucket !== "string") return;
    const change: Change = { bucket: m.bucket };
    if (typeof m.key === "string") change.key = m.key;
    for (const listener of listeners) listener(change, false);
  });
  redis.onReconnect(() => {
    for (const resync of resyncs) resync();
  });
  return {
    publish(change) {
      local.publish(change);
      redis.publish(CHANNEL, { from: redis.instanceId, ...change }).catch((error) => {
        // Other instances keep stale entries until their TTL (listings 30 s) or the resync after Redis returns.
        logger.warn({ err: error, bucket: change.bucket }, "could not publish a cache invalidation");
      });
    },
    onChange: (listener) => listeners.push(listener),
    onResync: (listener) => resyncs.push(listener),
  };
}
