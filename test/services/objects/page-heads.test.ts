import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeltaGlider } from "../../../src/services/deltaglider/index.js";
import { createMetrics } from "../../../src/services/metrics.js";
import type { ObjectQuery } from "../../../src/services/objects/query.js";
import { createObjectsService, type ObjectsServiceOptions } from "../../../src/services/objects/service.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { planSavingsBucket, writeSavingsBucket } from "../../helpers/savings-bucket.js";

const BUCKET = "page-heads";
const FOLDER = "apps/app-0/";
const secret = "h".repeat(32);
const MODIFIED_PAGE: ObjectQuery = { bucket: BUCKET, prefix: FOLDER, sort: "modified", order: "desc", limit: 200 };

/**
 * A cold modified-sorted page knows its rows only after the whole LIST walk, so the user waits for its deltas' HEADs
 * after the walk: those run wider than the metadata reads that overlap the walk or cover the whole folder.
 */
describe("the HEADs of a page's deltas after the walk", () => {
  const memory = createMemoryStore();
  const metrics = createMetrics();
  const dgs: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const dg of dgs) await dg.close();
  });
  let expected: string;
  let deltasOnPage: number;

  /** A cold service over the folder, counting LIST and HEAD calls and the most HEADs in flight at once. */
  function coldService(options: Partial<ObjectsServiceOptions> = {}) {
    const seen = { lists: 0, heads: 0, inFlight: 0, maxInFlight: 0 };
    const store: ObjectStore = {
      ...memory,
      listObjects(input) {
        seen.lists++;
        return memory.listObjects(input);
      },
      headObject(bucket, key, signal) {
        seen.heads++;
        seen.maxInFlight = Math.max(seen.maxInFlight, ++seen.inFlight);
        return memory.headObject(bucket, key, signal).finally(() => seen.inFlight--);
      },
    };
    const dg = createDeltaGlider(store, metrics, { encodeThreads: 1 });
    dgs.push(dg);
    return { objects: createObjectsService(store, dg, { secret, hiddenBuckets: [], ...options }), seen };
  }

  const shape = (p: Awaited<ReturnType<ReturnType<typeof coldService>["objects"]["listObjects"]>>) =>
    JSON.stringify({ objects: p.objects, total: p.total, cursor: p.cursor });

  beforeAll(async () => {
    await writeSavingsBucket(memory, BUCKET, planSavingsBucket(1200, 4));
    const reference = coldService({ headConcurrency: 1, pageHeadConcurrency: 1 });
    const page = await reference.objects.listObjects(MODIFIED_PAGE);
    expected = shape(page);
    deltasOnPage = page.objects.filter((r) => r.compressed).length;
  });

  it("runs up to 48 at once by default (3 × HEAD_CONCURRENCY 16), each delta once, no extra LIST", async () => {
    expect(deltasOnPage).toBeGreaterThan(48);
    const walk = coldService();
    const raw = { lists: 0 };
    for (let token: string | undefined, first = true; first || token; first = false) {
      raw.lists++;
      token = (await memory.listObjects({ bucket: BUCKET, prefix: FOLDER, delimiter: "/", continuationToken: token }))
        .nextContinuationToken;
    }
    const page = await walk.objects.listObjects(MODIFIED_PAGE);
    expect(shape(page)).toBe(expected);
    expect(walk.seen.heads).toBe(deltasOnPage);
    expect(walk.seen.lists).toBe(raw.lists);
    expect(walk.seen.maxInFlight).toBe(48);
  });

  it("follows HEAD_CONCURRENCY (never below it), and an explicit page setting", async () => {
    const low = coldService({ headConcurrency: 4 });
    expect(shape(await low.objects.listObjects(MODIFIED_PAGE))).toBe(expected);
    expect(low.seen.maxInFlight).toBe(12);
    const high = coldService({ headConcurrency: 64 });
    expect(shape(await high.objects.listObjects(MODIFIED_PAGE))).toBe(expected);
    expect(high.seen.maxInFlight).toBe(Math.min(64, deltasOnPage));
    const explicit = coldService({ pageHeadConcurrency: 7 });
    expect(shape(await explicit.objects.listObjects(MODIFIED_PAGE))).toBe(expected);
    expect(explicit.seen.maxInFlight).toBe(7);
    expect(explicit.seen.heads).toBe(deltasOnPage);
  });

  it("keeps whole-folder reads (size sort) at HEAD_CONCURRENCY", async () => {
    const sized = coldService();
    const page = await sized.objects.listObjects({ ...MODIFIED_PAGE, sort: "size" });
    expect(page.objects).toHaveLength(200);
    expect(sized.seen.heads).toBeGreaterThan(deltasOnPage);
    expect(sized.seen.maxInFlight).toBe(16);
  });
});
