import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeltaGlider } from "../../../src/services/deltaglider/index.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { createObjectsService } from "../../../src/services/objects/service.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { planSavingsBucket, writeSavingsBucket } from "../../helpers/savings-bucket.js";

const BUCKET = "prefetch";
const FOLDER = "apps/app-0/";
const LIMIT = 40;
const secret = "p".repeat(32);

/** A deferred promise: resolved by the test when the condition it names holds. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("a cold name_asc page reads its deltas' sizes while the walk goes on", () => {
  const memory = createMemoryStore();
  const metrics = createMetrics();
  const plainDg = createDeltaGlider(memory, metrics, { encodeThreads: 1 });
  afterAll(() => plainDg.close());
  let expected: string;
  let deltasOnPage: number;

  beforeAll(async () => {
    await writeSavingsBucket(memory, BUCKET, planSavingsBucket(600, 9));
    const plain = createObjectsService(memory, plainDg, { secret, hiddenBuckets: [] });
    const page = await plain.listObjects({ bucket: BUCKET, prefix: FOLDER, sort: "name", order: "asc", limit: LIMIT });
    expected = JSON.stringify({ objects: page.objects, total: page.total, cursor: page.cursor });
    deltasOnPage = page.objects.filter((r) => r.compressed).length;
  });

  it("HEADs the first page's deltas before the second LIST page is answered, and nothing else", async () => {
    let heads = 0;
    const allHeadsStarted = deferred();
    let pagesOfFolder = 0;
    // LIST pages of 100 keys; the second waits until every delta of the first page is being HEADed.
    const store: ObjectStore = {
      ...memory,
      async listObjects(input) {
        if (input.bucket === BUCKET && input.prefix === FOLDER && ++pagesOfFolder === 2) {
          await allHeadsStarted.promise;
        }
        return memory.listObjects({ ...input, maxKeys: 100 });
      },
      headObject(bucket, key, signal) {
        if (++heads === deltasOnPage) allHeadsStarted.resolve();
        return memory.headObject(bucket, key, signal);
      },
    };
    const dg = createDeltaGlider(store, metrics, { encodeThreads: 1 });
    try {
      const objects = createObjectsService(store, dg, { secret, hiddenBuckets: [] });
      const page = await objects.listObjects({
        bucket: BUCKET,
        prefix: FOLDER,
        sort: "name",
        order: "asc",
        limit: LIMIT,
      });
      expect(JSON.stringify({ objects: page.objects, total: page.total, cursor: page.cursor })).toBe(expected);
      expect(pagesOfFolder).toBeGreaterThan(2);
      expect(deltasOnPage).toBeGreaterThan(0);
      // Each delta once: the page's own read joined the ones in flight or found them cached.
      expect(heads).toBe(deltasOnPage);
    } finally {
      await dg.close();
    }
  });
});
