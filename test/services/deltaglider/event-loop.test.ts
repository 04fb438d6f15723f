import { afterAll, describe, expect, it } from "vitest";
import { createEncodePool, type EncodePool } from "../../../src/services/deltaglider/encode-pool.js";
import { createDeltaGlider } from "../../../src/services/deltaglider/index.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import { releaseVersions } from "../../helpers/releases.js";
import { settled } from "../../helpers/settle.js";

describe("delta encoding keeps the event loop free", () => {
  const store = createMemoryStore();
  const pool = createEncodePool({ threads: 1 });
  let onEncode: (() => void) | undefined;
  // The real pool, telling the test when an encode was handed to it.
  const watched: EncodePool = {
    encode(task, signal) {
      const result = pool.encode(task, signal);
      onEncode?.();
      return result;
    },
    get running() {
      return pool.running;
    },
    close: () => pool.close(),
  };
  const dg = createDeltaGlider(store, createMetrics(), { encodePool: watched });
  afterAll(() => dg.close());

  it("answers listings while a large upload is being encoded in a worker thread", async () => {
    await store.createBucket("busy");
    for (let i = 0; i < 50; i++)
      await store.putObject({ bucket: "busy", key: `list/f${i}.txt`, body: Buffer.from("x") });
    const [v1, v2] = releaseVersions(24 * 1024 * 1024, 2, 77);
    await dg.upload("busy", "big/app-1.zip", v1);

    const started = new Promise<void>((resolve) => {
      onEncode = resolve;
    });
    const upload = dg.upload("busy", "big/app-2.zip", v2);
    await started;
    let answeredDuringEncode = 0;
    while (dg.encoder.running > 0) {
      const listing = await dg.list("busy", "list/");
      expect(listing.objects).toHaveLength(50);
      if (dg.encoder.running > 0) answeredDuringEncode++;
      // One event-loop turn, so the worker's answer can arrive between listings.
      await settled();
    }
    const result = await upload;
    expect(result.storedAs).toBe("delta");
    // Encoding 24 MiB on this thread would block it for its whole duration: no listing could finish meanwhile.
    // (How long the loop stalls is a figure for the benchmarks, not an assertion here.)
    expect(answeredDuringEncode).toBeGreaterThan(3);
  });
});
