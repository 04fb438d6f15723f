import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_BUCKET, seedDemoBucket } from "../../../src/services/deltaglider/demo.js";
import { createDeltaGlider } from "../../../src/services/deltaglider/index.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { scanBucket } from "../../../src/services/savings/compute.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";

describe("demo bucket", () => {
  const store = createMemoryStore();
  const dg = createDeltaGlider(store, createMetrics(), { encodeThreads: 1 });
  afterAll(() => dg.close());

  it("is seeded through the upload service with real savings, once", async () => {
    expect(await seedDemoBucket(store, dg, pino({ level: "silent" }))).toBe(true);
    const root = await dg.list(DEMO_BUCKET, "");
    expect(root.commonPrefixes).toEqual(["backups/", "docs/", "releases/", "tools/"]);
    const viewer = await dg.list(DEMO_BUCKET, "releases/viewer/");
    expect(viewer.objects.map((o) => o.key)).toEqual([
      "releases/viewer/CHANGELOG.md",
      "releases/viewer/viewer-1.0.0.zip",
      "releases/viewer/viewer-1.1.0.zip",
      "releases/viewer/viewer-1.2.0.zip",
      "releases/viewer/viewer-1.3.0.zip",
    ]);
    expect(viewer.objects.filter((o) => o.compressed)).toHaveLength(4);
    const figures = await scanBucket(dg.catalogue, DEMO_BUCKET);
    expect(figures.objectCount).toBe(13);
    expect(figures.originalBytes).toBeGreaterThan(1_500_000);
    expect(figures.storedBytes).toBeLessThan(figures.originalBytes / 2);
    expect(figures.savingsPct).toBeGreaterThan(50);
    expect(await seedDemoBucket(store, dg, pino({ level: "silent" }))).toBe(false);
  });
});
