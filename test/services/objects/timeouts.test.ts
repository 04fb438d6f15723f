import { afterAll, describe, expect, it } from "vitest";
import { createDeltaGlider } from "../../../src/services/deltaglider/index.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { createObjectsService } from "../../../src/services/objects/service.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";

/** A real store whose listings never answer (until aborted), as an unresponsive S3 would behave. */
function stalledStore(): ObjectStore {
  const inner = createMemoryStore();
  return {
    ...inner,
    listObjects: (input) =>
      new Promise((_resolve, reject) => {
        input.signal?.addEventListener("abort", () => reject(input.signal?.reason), { once: true });
      }),
  };
}

describe("list and metadata timeouts (RFC-DG-UI-0002: 60 s)", () => {
  const store = stalledStore();
  const dg = createDeltaGlider(store, createMetrics(), { encodeThreads: 1 });
  afterAll(() => dg.close());

  it("turns a listing that outlives the timeout into a typed `timeout` error", async () => {
    await store.createBucket("slow");
    const objects = createObjectsService(store, dg, { secret: "s".repeat(32), hiddenBuckets: [], timeoutMs: 50 });
    await expect(objects.listObjects({ bucket: "slow" })).rejects.toMatchObject({ code: "timeout" });
  });

  it("does not report a client abort as a timeout", async () => {
    const objects = createObjectsService(store, dg, { secret: "s".repeat(32), hiddenBuckets: [], timeoutMs: 10_000 });
    const controller = new AbortController();
    const listing = objects.listObjects({ bucket: "slow" }, undefined, controller.signal);
    controller.abort();
    const error = await listing.catch((e) => e);
    expect(error?.code).not.toBe("timeout");
  });
});
