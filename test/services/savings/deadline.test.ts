import { afterAll, describe, expect, it } from "vitest";
import type { SavingsProgress } from "../../../src/services/savings/jobs.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { buildTestApp } from "../../helpers/app.js";

/** A memory store whose listings of `stuck-*` buckets never answer (until aborted), as a stalled S3 would. */
function partlyStalledStore(): ObjectStore {
  const inner = createMemoryStore();
  return {
    ...inner,
    listObjects: (input) =>
      input.bucket.startsWith("stuck-")
        ? new Promise((_resolve, reject) => {
            input.signal?.addEventListener("abort", () => reject(input.signal?.reason), { once: true });
          })
        : inner.listObjects(input),
  };
}

async function lastEvent(events: AsyncIterable<SavingsProgress>): Promise<SavingsProgress | undefined> {
  let last: SavingsProgress | undefined;
  for await (const event of events) last = event;
  return last;
}

describe("savings jobs on a stalled store (STORAGE_TIMEOUT_MS)", async () => {
  const store = partlyStalledStore();
  const app = await buildTestApp({ STORAGE_TIMEOUT_MS: "300", SAVINGS_MAX_CONCURRENT_BUCKETS: "2" }, { store });
  afterAll(() => app.close());

  it("fails a stalled page with FAILED/timeout and frees the slot for other buckets (was: pending for the outage)", async () => {
    for (const bucket of ["stuck-a", "stuck-b", "healthy"]) await store.createBucket(bucket);
    await store.putObject({ bucket: "healthy", key: "a.txt", body: Buffer.from("hello") });
    const savings = app.services.savings;
    // Two stalled buckets hold both slots; the third job waits behind them.
    await savings.start("stuck-a");
    await savings.start("stuck-b");
    await savings.start("healthy");
    const [a, b, healthy] = await Promise.all(
      ["stuck-a", "stuck-b", "healthy"].map((bucket) => lastEvent(savings.watch(bucket))),
    );
    expect(a).toMatchObject({ state: "FAILED", errorCode: "timeout" });
    expect(b).toMatchObject({ state: "FAILED", errorCode: "timeout" });
    expect(healthy).toMatchObject({ state: "DONE" });
    expect((await savings.status("healthy")).figures?.objectCount).toBe(1);
  });
});
