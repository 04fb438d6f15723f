import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { GliderError } from "../errors.js";

/**
 * One instance's connection to the shared Redis (REDIS_URL): a command client and a subscriber client (a Redis
 * connection in subscribe mode cannot run commands). Both reconnect by themselves; commands issued while the link is
 * down fail at once (no offline queue) with `unavailable`, so a request never waits on a Redis that is gone.
 */
export interface SharedRedis {
  /** This process's id: messages it published itself are recognised by it. */
  readonly instanceId: string;
  readonly client: Redis;
  /** Runs a command; a connection failure becomes `unavailable` (503). */
  run<T>(command: (client: Redis) => Promise<T>): Promise<T>;
  /** Publishes `message` (JSON) on `channel`. */
  publish(channel: string, message: unknown): Promise<void>;
  /** Calls `handler` for every message on `channel` (from every instance, this one included). */
  subscribe(channel: string, handler: (message: unknown) => void): () => void;
  /** Called each time the subscriber link comes back after a loss (messages in between were missed). */
  onReconnect(listener: () => void): void;
  /** Whether the command link is up now. */
  connected(): boolean;
  /** For /ready: PING within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Key prefix of everything Glider keeps in Redis, so one Redis can serve other tenants too. */
export const KEY_PREFIX = "glider:";

export function unavailable(cause?: unknown): GliderError {
  return new GliderError(
    "unavailable",
    "shared state (Redis) is unreachable; try again shortly",
    { dependency: "redis" },
    { cause },
  );
}

export function createSharedRedis(url: string, logger: Logger): SharedRedis {
  const log = logger.child({ component: "redis" });
  const options = {
    keyPrefix: undefined,
    // Reconnect forever, backing off to 1 s: the process keeps serving reads meanwhile.
    retryStrategy: (times: number) => Math.min(times * 50, 1000),
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
  };
  const client = new Redis(url, { ...options, enableOfflineQueue: false });
  // The subscriber queues its SUBSCRIBE commands until connected and re-subscribes after each reconnection.
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
  const handlers = new Map<string, Set<(message: unknown) => void>>();
  let up = false;
  let warned = false;
  client.on("ready", () => {
    if (!up) log.info("connected to Redis");
    up = true;
    warned = false;
  });
  const down = (error?: unknown) => {
    up = false;
    if (!warned) log.warn({ err: error }, "Redis unreachable: shared features answer 503 until it is back");
    warned = true;
  };
  client.on("error", down);
  client.on("close", () => down());
  subscriber.on("error", () => {});
  const reconnects: (() => void)[] = [];
  let subscriberLost = false;
  subscriber.on("close", () => {
    subscriberLost = true;
  });
  subscriber.on("ready", () => {
    if (!subscriberLost) return;
    subscriberLost = false;
    for (const listener of reconnects) listener();
  });
  subscriber.on("message", (channel: string, raw: string) => {
    const set = handlers.get(channel);
    if (!set) return;
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    for (const handler of set) {
      try {
        handler(message);
      } catch (error) {
        log.error({ err: error, channel }, "a Redis message handler failed");
      }
    }
  });

  async function run<T>(command: (client: Redis) => Promise<T>): Promise<T> {
    if (client.status !== "ready") throw unavailable();
    try {
      return await command(client);
    } catch (error) {
      if (error instanceof GliderError) throw error;
      // Replies that are errors of the command itself (a script's error) are bugs, not outages.
      if (error instanceof Error && error.name === "ReplyError") throw error;
      throw unavailable(error);
    }
  }

  return {
    instanceId: randomUUID(),
    client,
    run,
    async publish(channel, message) {
      await run((c) => c.publish(KEY_PREFIX + channel, JSON.stringify(message)));
    },
    subscribe(channel, handler) {
      const full = KEY_PREFIX + channel;
      let set = handlers.get(full);
      if (!set) {
        set = new Set();
        handlers.set(full, set);
        subscriber.subscribe(full).catch((error) => log.warn({ err: error, channel }, "Redis subscribe failed"));
      }
      set.add(handler);
      return () => {
        set.delete(handler);
        if (set.size === 0 && handlers.get(full) === set) {
          handlers.delete(full);
          subscriber.unsubscribe(full).catch(() => {});
        }
      };
    },
    onReconnect: (listener) => reconnects.push(listener),
    connected: () => client.status === "ready",
    async ping(timeoutMs) {
      if (client.status !== "ready") throw new Error(`Redis is ${client.status}`);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          client.ping(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`Redis did not answer PING within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      handlers.clear();
      client.disconnect();
      subscriber.disconnect();
    },
  };
}
