/**
 * An encode that fails its proof never fails the upload and never stores a bad delta: the upload is stored as a
 * direct file, reported at error level with the sizes and the DeltaSpace, and counted in
 * glider_encoder_fallbacks_total. The pool below runs the real encoder, then (for names starting "broken") replaces
 * the delta with garbage and reports the proof failure the real worker reports (see encode-worker.test.ts).
 */
import { writeFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEncodePool, type EncodePool } from "../../../src/services/deltaglider/encode-pool.js";
import { createDeltaGlider, type DeltaGlider } from "../../../src/services/deltaglider/index.js";
import { createMetrics, type Metrics } from "../../../src/services/metrics.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { releaseVersions } from "../../helpers/releases.js";

async function bytesOf(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe("upload fallback when an encode fails its proof", () => {
  let store: ObjectStore;
  let metrics: Metrics;
  let dg: DeltaGlider;
  let real: EncodePool;
  const logs: { fields: Record<string, unknown>; message: string }[] = [];
  const versions = releaseVersions(200_000, 3, 14);

  beforeAll(async () => {
    store = createMemoryStore();
    await store.createBucket("bkt");
    metrics = createMetrics();
    real = createEncodePool({ threads: 1 });
    const pool: EncodePool = {
      ...real,
      async encode(task, signal) {
        const result = await real.encode(task, signal);
        if (!task.appHeader.startsWith("broken")) return result;
        const garbage = Buffer.alloc(100, 0xab);
        await writeFile(task.deltaPath, garbage);
        return { ...result, deltaSize: garbage.length, proofFailure: "forced: delta does not rebuild the upload" };
      },
      get running() {
        return real.running;
      },
    };
    dg = createDeltaGlider(store, metrics, {
      encodePool: pool,
      logger: { error: (fields: Record<string, unknown>, message: string) => logs.push({ fields, message }) },
    });
  });
  afterAll(async () => {
    await dg?.close();
  });

  async function physicalKeys(): Promise<string[]> {
    return (await store.listObjects({ bucket: "bkt" })).objects.map((o) => o.key).sort();
  }

  async function fallbacks(): Promise<number> {
    const metric = await metrics.registry.getSingleMetric("glider_encoder_fallbacks_total")?.get();
    return metric?.values[0]?.value ?? 0;
  }

  it("a new version (encoded while it arrives) is stored whole, logged with sizes and DeltaSpace, and counted", async () => {
    const first = await dg.upload("bkt", "rel/app-1.zip", versions[0]);
    expect(first.storedAs).toBe("reference");
    const second = await dg.upload("bkt", "rel/broken-2.zip", versions[1]);
    expect(second).toMatchObject({
      storedAs: "direct",
      physicalKey: "rel/broken-2.zip",
      storedBytes: versions[1].length,
    });
    expect(await physicalKeys()).toEqual(["rel/app-1.zip.delta", "rel/broken-2.zip", "rel/reference.bin"]);
    const read = await dg.open("bkt", "rel/broken-2.zip");
    expect((await bytesOf(read.body as Readable)).equals(versions[1])).toBe(true);
    expect(await fallbacks()).toBe(1);
    expect(logs).toHaveLength(1);
    expect(logs[0].message).toMatch(/failed its proof/);
    expect(logs[0].fields).toMatchObject({
      bucket: "bkt",
      key: "rel/broken-2.zip",
      deltaSpace: "rel/",
      fileSize: versions[1].length,
      referenceSize: versions[0].length,
      deltaSize: 100,
      reason: expect.stringMatching(/forced/),
    });
    // The metric is exposed on /metrics.
    expect(await metrics.registry.metrics()).toMatch(/^glider_encoder_fallbacks_total 1$/m);
  });

  it("a first upload whose zero-diff delta fails takes its reference.bin back and is stored whole", async () => {
    const result = await dg.upload("bkt", "other/broken-1.zip", versions[2]);
    expect(result).toMatchObject({ storedAs: "direct", physicalKey: "other/broken-1.zip" });
    expect((await physicalKeys()).filter((k) => k.startsWith("other/"))).toEqual(["other/broken-1.zip"]);
    expect(await fallbacks()).toBe(2);
    // The next version of that DeltaSpace starts it properly.
    const next = await dg.upload("bkt", "other/app-2.zip", versions[1]);
    expect(next.storedAs).toBe("reference");
    expect(await fallbacks()).toBe(2);
  });
});
