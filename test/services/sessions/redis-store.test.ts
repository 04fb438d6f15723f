import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisSessionStore } from "../../../src/services/sessions/redis-store.js";
import { createSharedRedis, type SharedRedis } from "../../../src/services/shared/redis.js";
import { type RedisHandle, startRedis } from "../../helpers/cluster.js";

describe("sessions in Redis (several instances)", () => {
  let server: RedisHandle;
  let a: SharedRedis;
  let b: SharedRedis;

  beforeAll(async () => {
    server = await startRedis();
    const logger = pino({ level: "silent" });
    a = createSharedRedis(server.url, logger);
    b = createSharedRedis(server.url, logger);
    await Promise.all([
      new Promise((resolve) => a.client.once("ready", resolve)),
      new Promise((resolve) => b.client.once("ready", resolve)),
    ]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
  });

  it("a session created through one connection is read, refreshed and ended through another", async () => {
    const onA = createRedisSessionStore(a, { idleMs: 60_000, max: 100 });
    const onB = createRedisSessionStore(b, { idleMs: 60_000, max: 100 });
    const record = { connectionId: "s3:abc", sealedCredentials: "sealed", createdAt: 1 };
    const id = await onA.create(record);
    const seen = await onB.touch(id);
    expect(seen?.record).toEqual(record);
    expect(seen?.expiresInMs).toBe(60_000);
    expect(await a.client.pttl(`glider:session:${id}`)).toBeGreaterThan(59_000);
    await onB.delete(id);
    expect(await onA.touch(id)).toBeUndefined();
    expect(await onA.touch("no-such-session")).toBeUndefined();
  });

  it("holds at most `max` sessions: the least recently used ones end", async () => {
    await a.client.flushall();
    const store = createRedisSessionStore(a, { idleMs: 60_000, max: 2 });
    const first = await store.create({ connectionId: "server", createdAt: 1 });
    const second = await store.create({ connectionId: "server", createdAt: 2 });
    // Last uses set apart by a second (two creates can fall in one millisecond): the second is the least recent.
    await a.client.zadd("glider:session-index", Date.now() - 1000, second, Date.now(), first);
    const third = await store.create({ connectionId: "server", createdAt: 3 });
    expect(await store.touch(second)).toBeUndefined();
    expect(await store.touch(first)).toBeDefined();
    expect(await store.touch(third)).toBeDefined();
    expect(await store.size()).toBe(2);
  });

  it("answers 503 unavailable while Redis is down, and works again once it is back", async () => {
    const store = createRedisSessionStore(a, { idleMs: 60_000, max: 100 });
    const id = await store.create({ connectionId: "server", createdAt: 1 });
    await server.stop();
    await expect(store.touch(id)).rejects.toMatchObject({ code: "unavailable" });
    await server.restart();
    // ioredis reconnects on its own and says so with "ready" (a plain listener: events.once would reject on the
    // "error" events of the attempts made while the server was down).
    if (!a.connected()) await new Promise((resolve) => a.client.once("ready", resolve));
    expect(a.connected()).toBe(true);
    // No persistence in the test server: the session is gone, and the store says so instead of failing.
    expect(await store.touch(id)).toBeUndefined();
  });
});
