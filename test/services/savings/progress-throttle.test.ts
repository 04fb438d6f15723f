import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createCatalogue } from "../../../src/services/deltaglider/catalogue.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { createSavingsService, type SavingsProgress } from "../../../src/services/savings/jobs.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { planSavingsBucket, writeSavingsBucket } from "../../helpers/savings-bucket.js";
import { settled } from "../../helpers/settle.js";

/** The memory store with every HEAD held until the test lets it through (in order). */
function gatedHeads(inner: ObjectStore) {
  const waiting: (() => void)[] = [];
  let allowance = 0;
  const pass = () => {
    while (allowance > 0 && waiting.length > 0) {
      allowance--;
      waiting.shift()?.();
    }
  };
  const headObject: ObjectStore["headObject"] = async (bucket, key, signal) => {
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      pass();
    });
    return inner.headObject(bucket, key, signal);
  };
  const store = new Proxy(inner, {
    get: (target, property, receiver) =>
      property === "headObject" ? headObject : Reflect.get(target, property, receiver),
  });
  return {
    store,
    allow(n: number) {
      allowance += n;
      pass();
    },
  };
}

/**
 * The progress throttle (at most one event per `progressIntervalMs`, the newest figures, terminal events at once) on
 * a fake clock: the scan advances only when the test lets HEADs through, time only when the test moves it.
 */
describe("savings progress events", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("at most one per interval with the newest figures, the first after a quiet spell at once, DONE without delay", async () => {
    const memory = createMemoryStore();
    await writeSavingsBucket(memory, "throttled", planSavingsBucket(40));
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const gate = gatedHeads(memory);
    const service = createSavingsService(
      {
        catalogue: createCatalogue(gate.store),
        store: gate.store,
        metrics: createMetrics(),
        logger: pino({ level: "silent" }),
      },
      { progressIntervalMs: 100, headConcurrency: 2, firstScanHeadConcurrency: 2 },
    );
    await service.start("throttled");
    const events: SavingsProgress[] = [];
    const watching = (async () => {
      for await (const event of service.watch("throttled")) events.push(event);
    })();
    await settled();
    expect(events).toHaveLength(1); // the snapshot
    const scanned = () => events.map((e) => e.scannedObjects);

    // Progress within the interval is held back...
    gate.allow(3);
    await settled();
    expect(events).toHaveLength(1);
    vi.advanceTimersByTime(99);
    await settled();
    expect(events).toHaveLength(1);
    // ...and sent when it ends, with the figures as they are then.
    vi.advanceTimersByTime(1);
    await settled();
    expect(events).toHaveLength(2);
    expect(scanned()[1]).toBeGreaterThan(scanned()[0]);

    gate.allow(3);
    await settled();
    vi.advanceTimersByTime(99);
    await settled();
    expect(events).toHaveLength(2);
    vi.advanceTimersByTime(1);
    await settled();
    expect(events).toHaveLength(3);
    expect(scanned()[2]).toBeGreaterThan(scanned()[1]);

    // After a quiet spell longer than the interval, the next progress goes out at once (leading edge).
    vi.advanceTimersByTime(1000);
    gate.allow(1);
    await settled();
    expect(events).toHaveLength(4);

    // The end is never held back, and no throttled RUNNING event follows it.
    gate.allow(Number.POSITIVE_INFINITY);
    await watching;
    expect(events.at(-1)?.state).toBe("DONE");
    expect(events.slice(0, -1).every((e) => e.state === "RUNNING")).toBe(true);
    expect(events).toHaveLength(5);
    vi.advanceTimersByTime(1000);
    await settled();
    expect(events.at(-1)?.state).toBe("DONE");
    await service.close();
  });
});
