import { afterAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { buildTestApp, listen } from "../helpers/app.js";

/** A store whose readiness probe is stuck behind a busy connection pool while real calls still get answers. */
function busyStore() {
  const inner = createMemoryStore();
  let pings = 0;
  let stuck = true;
  const store: ObjectStore = {
    ...inner,
    ping: (signal) => {
      pings++;
      if (!stuck) return inner.ping(signal);
      return new Promise((_resolve, reject) => {
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    },
  };
  return {
    store,
    pings: () => pings,
    unstick() {
      stuck = false;
    },
  };
}

describe("/ready does not flap under load (was: 4 of 57 checks 503 during a 200-client run)", () => {
  const busy = busyStore();
  let app: Awaited<ReturnType<typeof buildTestApp>>;
  afterAll(() => app?.close());

  it("stays 200 for every check during 200 concurrent listings while the probe itself would time out", async () => {
    app = await buildTestApp({ READY_PROBE_TIMEOUT_MS: "200", OBJECTS_RATE_LIMIT: "0" }, { store: busy.store });
    const base = await listen(app);
    await busy.store.createBucket("load");
    for (let i = 0; i < 20; i++) {
      await busy.store.putObject({ bucket: "load", key: `f/${i}.txt`, body: Buffer.from(String(i)) });
    }
    const load = Array.from({ length: 200 }, (_, i) =>
      fetch(`${base}/api/objects?bucket=load&prefix=f/&search=${i}`).then((r) => r.status),
    );
    const checks = Array.from({ length: 60 }, () => fetch(`${base}/ready`).then((r) => r.status));
    const [loadStatuses, readyStatuses] = await Promise.all([Promise.all(load), Promise.all(checks)]);
    expect(loadStatuses.every((s) => s === 200)).toBe(true);
    expect(readyStatuses).toEqual(Array(60).fill(200));
    // The busy instance never needed its own probe.
    expect(busy.pings()).toBe(0);
  });

  it("an idle instance, whose last answer is stale, proves readiness with a probe", async () => {
    const idle = busyStore();
    idle.unstick();
    const quiet = await buildTestApp({ READY_FRESH_MS: "1" }, { store: idle.store });
    const base = await listen(quiet);
    const statuses = await Promise.all(Array.from({ length: 5 }, () => fetch(`${base}/ready`).then((r) => r.status)));
    expect(statuses).toEqual(Array(5).fill(200));
    expect(idle.pings()).toBeGreaterThan(0);
    await quiet.close();
  });
});
