import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, describe, expect, it } from "vitest";
import { createDeltaGlider } from "../../../src/services/deltaglider/index.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import { releaseVersions } from "../../helpers/releases.js";

describe("delta encoding keeps the event loop free", () => {
  const store = createMemoryStore();
  const dg = createDeltaGlider(store, createMetrics(), { encodeThreads: 1 });
  afterAll(() => dg.close());

  it("answers listings while a large upload is being encoded in a worker thread", async () => {
    await store.createBucket("busy");
    for (let i = 0; i < 50; i++)
      await store.putObject({ bucket: "busy", key: `list/f${i}.txt`, body: Buffer.from("x") });
    const [v1, v2] = releaseVersions(24 * 1024 * 1024, 2, 77);
    await dg.upload("busy", "big/app-1.zip", v1);

    const delay = monitorEventLoopDelay({ resolution: 10 });
    const upload = dg.upload("busy", "big/app-2.zip", v2);
    while (dg.encoder.running === 0) await new Promise((r) => setTimeout(r, 5));
    delay.enable();
    let answeredDuringEncode = 0;
    while (dg.encoder.running > 0) {
      const listing = await dg.list("busy", "list/");
      expect(listing.objects).toHaveLength(50);
      if (dg.encoder.running > 0) answeredDuringEncode++;
      await new Promise((r) => setTimeout(r, 10));
    }
    delay.disable();
    const result = await upload;
    expect(result.storedAs).toBe("delta");
    expect(answeredDuringEncode).toBeGreaterThan(3);
    // Encoding 24 MiB on this thread would block it for seconds; in a worker the loop never stalls.
    expect(delay.max / 1e6).toBeLessThan(1000);
  });
});
