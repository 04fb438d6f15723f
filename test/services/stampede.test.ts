import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeltaGlider } from "../../src/services/deltaglider/index.js";
import { createMetrics } from "../../src/services/metrics.js";
import { createObjectsService } from "../../src/services/objects/service.js";
import { createSavingsService } from "../../src/services/savings/jobs.js";
import { createSingleFlightCache } from "../../src/services/single-flight.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { expected, loadBucketFixture } from "../helpers/bucket-fixture.js";
import { countingStore } from "../helpers/counting-store.js";

const BURST = 50;
const TTL = 30_000;
const BUCKET = "fixture";

/**
 * No cache stampedes: when a cached answer expires while requests keep coming, exactly one storage call refreshes it.
 * The caches run on an injected clock, moved past the TTL instead of sleeping.
 */
describe("single-flight caches: 50 concurrent requests at the moment of expiry", () => {
  const inner = createMemoryStore();
  const counting = countingStore(inner);
  const dg = createDeltaGlider(counting.store, createMetrics(), { encodeThreads: 1 });
  let clock = 1_000;
  const objects = createObjectsService(counting.store, dg, {
    secret: "s".repeat(32),
    hiddenBuckets: [],
    listCache: { ttlMs: TTL, max: 100 },
    metaCache: { ttlMs: 5 * TTL, max: 5000 },
    now: () => clock,
  });
  const deltas = expected.objects.filter((o) => o.kind === "delta" && o.key.indexOf("/") === -1).length;

  beforeAll(async () => {
    await loadBucketFixture(inner, BUCKET);
  });
  afterAll(() => dg.close());

  it("bucket existence: one HeadBucket", async () => {
    expect(await objects.bucketExists(BUCKET)).toBe(true);
    counting.reset();
    clock += TTL + 1;
    const answers = await Promise.all(Array.from({ length: BURST }, () => objects.bucketExists(BUCKET)));
    expect(answers.every((a) => a === true)).toBe(true);
    expect(counting.calls.bucketExists).toBe(1);
    // The refreshed answer is cached again: the next burst costs nothing.
    counting.reset();
    await Promise.all(Array.from({ length: BURST }, () => objects.bucketExists(BUCKET)));
    expect(counting.calls.bucketExists).toBe(0);
  });

  it("bucket existence, cold: concurrent first asks share one HeadBucket, a missing bucket is asked again", async () => {
    counting.reset();
    const answers = await Promise.all(Array.from({ length: BURST }, () => objects.bucketExists("nope")));
    expect(answers.every((a) => a === false)).toBe(true);
    expect(counting.calls.bucketExists).toBe(1);
    await objects.bucketExists("nope");
    expect(counting.calls.bucketExists).toBe(2);
  });

  it("folder listing: one LIST, everyone answered with the same rows", async () => {
    const first = await objects.listObjects({ bucket: BUCKET, sort: "name", order: "asc" });
    counting.reset();
    clock += TTL + 1;
    const pages = await Promise.all(
      Array.from({ length: BURST }, () => objects.listObjects({ bucket: BUCKET, sort: "name", order: "asc" })),
    );
    expect(counting.calls.listObjects).toBe(1);
    for (const page of pages) expect(page.objects.map((o) => o.key)).toEqual(first.objects.map((o) => o.key));
    // Once the refresh landed, the listing is fresh again.
    await new Promise((resolve) => setImmediate(resolve));
    counting.reset();
    await objects.listObjects({ bucket: BUCKET, sort: "name", order: "asc" });
    expect(counting.calls.listObjects).toBe(0);
  });

  it("listing and metadata expiring together: one LIST and one HEAD per delta", async () => {
    await objects.listObjects({ bucket: BUCKET, sort: "size" });
    counting.reset();
    clock += 5 * TTL + 1;
    await Promise.all(Array.from({ length: BURST }, () => objects.listObjects({ bucket: BUCKET, sort: "size" })));
    // The stale listing answered the burst; its refresh (one LIST) then needs the sizes again: one HEAD per delta.
    await new Promise((resolve) => setImmediate(resolve));
    await objects.listObjects({ bucket: BUCKET, sort: "size" });
    expect(counting.calls.listObjects).toBe(1);
    expect(counting.calls.headObject).toBe(deltas);
  });

  it("an upload's invalidation is never overwritten by a listing read before it", async () => {
    const before = await objects.listObjects({ bucket: BUCKET, sort: "name" });
    clock += TTL + 1;
    // The refresh starts (and serves the stale rows) …
    await objects.listObjects({ bucket: BUCKET, sort: "name" });
    // … then an upload lands: whatever the refresh read must not be cached.
    await objects.upload(BUCKET, "stampede-new.txt", Buffer.from("new object"));
    const after = await objects.listObjects({ bucket: BUCKET, sort: "name" });
    expect(after.total).toBe(before.total + 1);
    expect(after.objects.some((o) => o.key === "stampede-new.txt")).toBe(true);
  });

  it("savings: 50 concurrent starts share one bucket check and one scan", async () => {
    const savings = createSavingsService(
      { catalogue: dg.catalogue, store: counting.store, metrics: createMetrics(), logger: pino({ level: "silent" }) },
      {},
    );
    try {
      counting.reset();
      const refs = await Promise.all(Array.from({ length: BURST }, () => savings.start(BUCKET)));
      expect(new Set(refs.map((r) => r.taskId)).size).toBe(1);
      expect(counting.calls.bucketExists).toBe(1);
      for await (const event of savings.watch(BUCKET)) if (event.state !== "RUNNING") break;
      expect(savings.status(BUCKET).figures).toBeDefined();
    } finally {
      await savings.close();
    }
  });

  it("references: 50 concurrent downloads of one delta fetch its reference once", async () => {
    const delta = expected.objects.find((o) => o.kind === "delta" && o.restorable && !o.zero_diff);
    if (!delta) throw new Error("the fixture has no restorable delta");
    dg.references.clear();
    counting.reset();
    const loadsBefore = dg.references.loads;
    const sizes = await Promise.all(
      Array.from({ length: BURST }, async () => {
        const stream = await objects.open(BUCKET, delta.key);
        let size = 0;
        for await (const chunk of stream.body) size += (chunk as Buffer).length;
        return size;
      }),
    );
    expect(sizes.every((s) => s === delta.original_bytes)).toBe(true);
    expect(dg.references.loads - loadsBefore).toBe(1);
    expect(counting.gets[delta.reference_key as string]).toBe(1);
  });
});

describe("createSingleFlightCache", () => {
  it("without serveStale, callers at expiry wait for the one refresh and get the new value", async () => {
    let clock = 0;
    const cache = createSingleFlightCache<number>({ max: 10, ttlMs: 100, serveStale: false, now: () => clock });
    let calls = 0;
    const load = async () => ++calls;
    expect(await cache.get("k", load)).toBe(1);
    clock = 101;
    const values = await Promise.all(Array.from({ length: BURST }, () => cache.get("k", load)));
    expect(values.every((v) => v === 2)).toBe(true);
    expect(calls).toBe(2);
  });

  it("a caller's abort stops only its own wait", async () => {
    const cache = createSingleFlightCache<string>({ max: 10, ttlMs: 100 });
    let release!: (value: string) => void;
    const load = () => new Promise<string>((resolve) => (release = resolve));
    const controller = new AbortController();
    const aborted = cache.get("k", load, controller.signal);
    const other = cache.get("k", load);
    controller.abort(new Error("client left"));
    await expect(aborted).rejects.toThrow("client left");
    release("value");
    expect(await other).toBe("value");
    expect(cache.loads).toBe(1);
  });

  it("a failed refresh is not cached and the next caller tries again", async () => {
    const cache = createSingleFlightCache<string>({ max: 10, ttlMs: 100 });
    await expect(cache.get("k", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await cache.get("k", async () => "up")).toBe("up");
  });
});
