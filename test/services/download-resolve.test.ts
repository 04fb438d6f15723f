import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeltaGlider } from "../../src/services/deltaglider/index.js";
import { createDownloadsService } from "../../src/services/downloads/service.js";
import { createMetrics } from "../../src/services/metrics.js";
import { createObjectsService } from "../../src/services/objects/service.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { expected, loadBucketFixture } from "../helpers/bucket-fixture.js";

/** A real store that records which HEADs were in flight together (answers are held until the next macrotask). */
function overlapStore(inner: ObjectStore) {
  let inFlight = 0;
  const log = {
    heads: [] as string[],
    maxInFlight: 0,
    /** GETs: key and body (to see whether it was destroyed). */
    gets: [] as { key: string; body: Readable }[],
    /** "head <key>", "head-done <key>", "get <key>" as they happen. */
    events: [] as string[],
  };
  const store: ObjectStore = {
    ...inner,
    async getObject(input) {
      log.events.push(`get ${input.key}`);
      const got = await inner.getObject(input);
      log.gets.push({ key: input.key, body: got.body });
      return got;
    },
    async headObject(bucket, key, signal) {
      log.heads.push(key);
      log.events.push(`head ${key}`);
      inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, inFlight);
      try {
        await new Promise((resolve) => setImmediate(resolve));
        return await inner.headObject(bucket, key, signal);
      } finally {
        log.events.push(`head-done ${key}`);
        inFlight--;
      }
    },
  };
  return { store, log };
}

describe("token downloads resolve a delta in one round trip (TTFB)", () => {
  const inner = createMemoryStore();
  const { store, log } = overlapStore(inner);
  const dg = createDeltaGlider(store, createMetrics(), { encodeThreads: 1 });
  const objects = createObjectsService(store, dg, { secret: "s".repeat(32), hiddenBuckets: [] });
  const downloads = createDownloadsService(objects, { secret: "s".repeat(32) });
  const delta = expected.objects.find((o) => o.kind === "delta" && o.restorable && !o.zero_diff);
  if (!delta) throw new Error("the fixture has no restorable delta");

  beforeAll(() => loadBucketFixture(inner, "fixture"));
  afterAll(() => dg.close());

  async function drain(stream: { body: NodeJS.ReadableStream }) {
    let size = 0;
    for await (const chunk of stream.body) size += (chunk as Buffer).length;
    return size;
  }

  it("HEADs the exact key and the .delta together when the token recorded a delta", async () => {
    const ticket = await downloads.prepare("fixture", delta.key);
    log.heads.length = 0;
    log.maxInFlight = 0;
    const stream = await downloads.open(ticket.token);
    expect(log.heads.sort()).toEqual([delta.key, `${delta.key}.delta`]);
    expect(log.maxInFlight).toBe(2);
    expect(await drain(stream)).toBe(delta.original_bytes);
  });

  it("sends the delta's GET with the HEADs, not after them, and makes no other GET", async () => {
    const ticket = await downloads.prepare("fixture", delta.key);
    log.gets.length = 0;
    log.events.length = 0;
    const stream = await downloads.open(ticket.token);
    expect(await drain(stream)).toBe(delta.original_bytes);
    expect(log.events.filter((e) => e === `get ${delta.key}.delta`)).toHaveLength(1);
    const lastHeadDone = log.events.findLastIndex((e) => e.startsWith("head-done "));
    expect(log.events.indexOf(`get ${delta.key}.delta`)).toBeLessThan(lastHeadDone);
  });

  it("a plain object uploaded under the key since the token was issued still wins (§4)", async () => {
    const ticket = await downloads.prepare("fixture", delta.key);
    await inner.putObject({ bucket: "fixture", key: delta.key, body: Buffer.from("plain wins") });
    try {
      log.gets.length = 0;
      const stream = await downloads.open(ticket.token);
      expect(stream.size).toBe(10);
      expect(await drain(stream)).toBe(10);
      // The early GET of the .delta was not used: its body was dropped unread.
      const early = log.gets.find((g) => g.key === `${delta.key}.delta`);
      expect(early?.body.destroyed).toBe(true);
    } finally {
      await inner.deleteObject("fixture", delta.key);
    }
  });

  it("plain objects keep one HEAD", async () => {
    const plain = expected.objects.find((o) => o.kind === "plain" && o.original_bytes > 0);
    if (!plain) throw new Error("the fixture has no plain object");
    const ticket = await downloads.prepare("fixture", plain.key);
    log.heads.length = 0;
    await drain(await downloads.open(ticket.token));
    expect(log.heads).toEqual([plain.key]);
  });
});
