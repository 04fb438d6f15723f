import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createCatalogue } from "../../../src/services/deltaglider/catalogue.js";
import { GliderError } from "../../../src/services/errors.js";
import { createMetrics, type Metrics } from "../../../src/services/metrics.js";
import {
  createSavingsService,
  type SavingsOptions,
  type SavingsProgress,
  type SavingsService,
} from "../../../src/services/savings/jobs.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { BACKENDS, type BackendHandle } from "../../helpers/backends.js";
import {
  expectedSavings,
  type GeneratedObject,
  planSavingsBucket,
  type SavingsFigures,
  writeSavingsBucket,
} from "../../helpers/savings-bucket.js";
import { settled } from "../../helpers/settle.js";

const BIG = "savings-big";
const SMALL = "savings-small";
const EMPTY = "savings-empty";
const LOGICAL_OBJECTS = 5_000;

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * The real store with a switchable HEAD: fails with GliderError("sdk_error") after `failAfter` HEADs, or holds every
 * HEAD after `pauseAfter` until `resume()` (or until the caller's signal aborts, as a real request would).
 */
function controllableStore(inner: ObjectStore) {
  const control = {
    heads: 0,
    failAfter: Number.POSITIVE_INFINITY,
    pauseAfter: Number.POSITIVE_INFINITY,
    reached: deferred(),
    resumed: deferred(),
    reset() {
      control.heads = 0;
      control.failAfter = Number.POSITIVE_INFINITY;
      control.pauseAfter = Number.POSITIVE_INFINITY;
      control.reached = deferred();
      control.resumed = deferred();
    },
  };
  const headObject: ObjectStore["headObject"] = async (bucket, key, signal) => {
    const n = ++control.heads;
    if (n > control.failAfter) throw new GliderError("sdk_error", "S3 request failed: injected", { bucket, key });
    if (n > control.pauseAfter) {
      control.reached.resolve();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        control.resumed.promise.then(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
      signal?.throwIfAborted();
    }
    return inner.headObject(bucket, key, signal);
  };
  const store = new Proxy(inner, {
    get: (target, property, receiver) =>
      property === "headObject" ? headObject : Reflect.get(target, property, receiver),
  });
  return { store, control };
}

interface Timed {
  event: SavingsProgress;
}

/** Reads a watch to its end. */
async function collect(iterable: AsyncIterable<SavingsProgress>): Promise<Timed[]> {
  const out: Timed[] = [];
  for await (const event of iterable) out.push({ event });
  return out;
}

async function jobGauge(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { labels, value } of (await metrics.jobs.get()).values) {
    if (labels.kind === "savings") out[String(labels.state)] = value;
  }
  return out;
}

function expectWellFormed(events: SavingsProgress[], taskId: string) {
  expect(events.length).toBeGreaterThan(0);
  expect(events.every((e) => e.taskId === taskId)).toBe(true);
  expect(events.slice(0, -1).every((e) => e.state === "RUNNING")).toBe(true);
  expect(events.at(-1)?.state).not.toBe("RUNNING");
  for (let i = 1; i < events.length; i++) {
    expect(events[i].scannedObjects).toBeGreaterThanOrEqual(events[i - 1].scannedObjects);
  }
}

function figuresOf(x: SavingsFigures | undefined) {
  return (
    x && {
      objectCount: x.objectCount,
      originalBytes: x.originalBytes,
      storedBytes: x.storedBytes,
      savingsPct: x.savingsPct,
    }
  );
}

describe.each(BACKENDS.filter((b) => b.name !== "memory"))("savings jobs on $name", (backend) => {
  let handle: BackendHandle;
  let plan: GeneratedObject[];
  let expected: SavingsFigures;
  let expectedSmall: SavingsFigures;
  let store: ObjectStore;
  let control: ReturnType<typeof controllableStore>["control"];
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const services: SavingsService[] = [];

  /** A fresh service over the controllable store; closed after the test unless `owned` is false. */
  function createService(options: SavingsOptions = {}, owned = true) {
    const metrics = createMetrics();
    const service = createSavingsService(
      { catalogue: createCatalogue(store), store, metrics, logger: pino({ level: "silent" }) },
      { headConcurrency: 32, now: () => clock, hiddenBuckets: ["glider-system"], ...options },
    );
    if (owned) services.push(service);
    return { service, metrics };
  }

  beforeAll(async () => {
    handle = await backend.create();
    ({ store, control } = controllableStore(handle.store));
    plan = planSavingsBucket(LOGICAL_OBJECTS);
    const small = planSavingsBucket(100, 2);
    await Promise.all([writeSavingsBucket(handle.store, BIG, plan), writeSavingsBucket(handle.store, SMALL, small)]);
    await handle.store.createBucket(EMPTY);
    expected = await expectedSavings(handle.store, BIG, plan);
    expectedSmall = await expectedSavings(handle.store, SMALL, small);
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
    control.reset();
  });
  afterAll(() => handle?.cleanup());

  it("generates a bucket of ≥ 5,000 logical objects, deltas and direct files", () => {
    expect(expected.objectCount).toBe(LOGICAL_OBJECTS);
    expect(plan.filter((o) => o.key.endsWith(".delta")).length).toBeGreaterThan(3_000);
    expect(plan.filter((o) => o.key.endsWith("reference.bin")).length).toBeGreaterThan(5);
    expect(expected.savingsPct).toBeGreaterThan(50);
    expect(expected.savingsPct).toBeLessThan(100);
  });

  // One service through a storage failure, then a full observed scan: the later start succeeds. (Sharing the
  // service saves a full scan, the slow part on s3rver.)
  describe("one service", () => {
    let service: SavingsService;
    let metrics: Metrics;
    beforeAll(() => {
      ({ service, metrics } = createService({}, false));
    });
    afterAll(() => service.close());

    it("ends FAILED with the storage error code when storage fails mid-scan, and caches nothing", async () => {
      expect(service.status(BIG)).toEqual({ pending: false });
      control.failAfter = 300;
      const failed = await service.start(BIG);
      expect(service.status(BIG).pending).toBe(true);
      const events = (await collect(service.watch(BIG))).map((t) => t.event);
      expectWellFormed(events, failed.taskId);
      expect(events.at(-1)).toMatchObject({
        state: "FAILED",
        errorCode: "sdk_error",
        originalBytes: 0,
        storedBytes: 0,
      });
      expect(service.status(BIG)).toEqual({ pending: false, job: events.at(-1) });
      expect(await jobGauge(metrics)).toEqual({ queued: 0, running: 0 });
    });

    it("then succeeds, with figures equal to an independent computation, one job for concurrent starts and mid-run subscribers", async () => {
      expect(service.status(BIG)).toMatchObject({ pending: false, job: { state: "FAILED" } });
      control.pauseAfter = 1_000;
      const [a, b] = await Promise.all([service.start(BIG), service.start(BIG)]);
      expect(a).toEqual({ taskId: a.taskId, bucket: BIG, state: "RUNNING" });
      expect(b.taskId).toBe(a.taskId);
      expect(service.status(BIG).pending).toBe(true);
      const early = collect(service.watch(BIG));

      await control.reached.promise;
      expect(await jobGauge(metrics)).toEqual({ queued: 0, running: 1 });
      const atJoin = service.status(BIG).job;
      const late = collect(service.watch(BIG)); // joins mid-run: its snapshot is taken synchronously, here
      expect((await service.start(BIG)).taskId).toBe(a.taskId);
      expect(service.status(BIG).pending).toBe(true);
      expect(service.status(BIG).figures).toBeUndefined();
      expect(atJoin?.state).toBe("RUNNING");
      expect(atJoin?.scannedObjects).toBeGreaterThan(0);

      control.resumed.resolve();
      const [earlyEvents, lateEvents] = await Promise.all([early, late]);

      for (const events of [earlyEvents, lateEvents]) {
        expectWellFormed(
          events.map((t) => t.event),
          a.taskId,
        );
        const last = events.at(-1)?.event;
        expect(last?.state).toBe("DONE");
        expect(figuresOf(last)).toEqual(expected);
        expect(last?.scannedObjects).toBe(expected.objectCount);
        expect(last?.computedAt).toEqual(new Date(clock));
        expect(events.filter((t) => t.event.state !== "RUNNING")).toHaveLength(1);
      }
      expect(earlyEvents[0].event.scannedObjects).toBeLessThan(expected.objectCount);
      expect(lateEvents[0].event).toEqual(atJoin);
      expect(lateEvents.length).toBeGreaterThan(1);

      // The event rate (≤ 10/s) is asserted on a fake clock in progress-throttle.test.ts, not on this one's.

      const status = service.status(BIG);
      expect(status.pending).toBe(false);
      expect(status.figures).toEqual({ ...expected, computedAt: new Date(clock) });
      expect(status.job?.state).toBe("DONE");
      expect(await jobGauge(metrics)).toEqual({ queued: 0, running: 0 });
      // One HEAD per visible delta, none for direct files, references or the twin hidden by its plain key.
      const visibleDeltas = plan.filter(
        (o) => o.key.endsWith(".delta") && !plan.some((p) => p.key === o.key.slice(0, -".delta".length)),
      );
      expect(control.heads).toBe(visibleDeltas.length);
    });
  });

  it("cancels a running job: one CANCELLED terminal event, nothing cached", async () => {
    const { service, metrics } = createService();
    control.pauseAfter = 500;
    const job = await service.start(BIG);
    const watching = collect(service.watch(BIG));
    await control.reached.promise;
    expect(service.cancel(BIG)).toBe(true);
    const events = (await watching).map((t) => t.event);
    expectWellFormed(events, job.taskId);
    expect(events.at(-1)?.state).toBe("CANCELLED");
    expect(service.status(BIG)).toMatchObject({ pending: false, job: { state: "CANCELLED" } });
    expect(service.status(BIG).figures).toBeUndefined();
    expect(service.cancel(BIG)).toBe(false);
    expect(await jobGauge(metrics)).toEqual({ queued: 0, running: 0 });
    // A finished job's watch is just its terminal state.
    expect((await collect(service.watch(BIG))).map((t) => t.event.state)).toEqual(["CANCELLED"]);
  });

  it("close() cancels running jobs and waits for them; later starts are refused", async () => {
    const { service } = createService();
    control.pauseAfter = 500;
    const job = await service.start(BIG);
    const watching = collect(service.watch(BIG));
    const idle = collect(service.watch(SMALL)); // waits for a job that will never come
    await control.reached.promise;
    await service.close();
    expect(await idle).toEqual([]);
    expect(service.status(BIG).pending).toBe(false);
    const events = (await watching).map((t) => t.event);
    expect(events.at(-1)).toMatchObject({ taskId: job.taskId, state: "CANCELLED" });
    expect(service.status(BIG).figures).toBeUndefined();
    await expect(service.start(BIG)).rejects.toMatchObject({ code: "invalid_state" });
  });

  it("queues buckets beyond maxConcurrentBuckets (RUNNING with no progress meanwhile)", async () => {
    const { service, metrics } = createService({ maxConcurrentBuckets: 1 });
    control.pauseAfter = 10;
    await service.start(BIG);
    await control.reached.promise;
    const queued = await service.start(SMALL);
    const small = collect(service.watch(SMALL));
    expect(service.status(SMALL)).toMatchObject({ pending: true, job: { state: "RUNNING", scannedObjects: 0 } });
    expect(await jobGauge(metrics)).toEqual({ queued: 1, running: 1 });
    // A queued job can be cancelled too; a new one then waits for the slot again.
    expect(service.cancel(SMALL)).toBe(true);
    expect((await small).map((t) => t.event.state)).toEqual(["RUNNING", "CANCELLED"]);
    const second = await service.start(SMALL);
    expect(second.taskId).not.toBe(queued.taskId);
    const smallEvents = collect(service.watch(SMALL));
    expect(service.cancel(BIG)).toBe(true);
    control.resumed.resolve();
    const done = (await smallEvents).map((t) => t.event);
    expect(done.at(-1)?.state).toBe("DONE");
    expect(figuresOf(done.at(-1))).toEqual(expectedSmall);
    expect(await jobGauge(metrics)).toEqual({ queued: 0, running: 0 });
  });

  it("caches figures for the TTL; invalidate drops them, also for a scan that was running meanwhile", async () => {
    const { service } = createService({ cacheTtlMs: 60_000 });
    await service.start(SMALL);
    await collect(service.watch(SMALL));
    expect(figuresOf(service.status(SMALL).figures)).toEqual(expectedSmall);
    clock += 59_000;
    expect(service.status(SMALL).figures).toBeDefined();
    clock += 1_001;
    expect(service.status(SMALL).figures).toBeUndefined();
    expect(service.status(SMALL).job?.state).toBe("DONE");

    await service.start(SMALL);
    await collect(service.watch(SMALL));
    expect(service.status(SMALL).figures).toBeDefined();
    service.invalidate(SMALL);
    expect(service.status(SMALL).figures).toBeUndefined();

    // A new instance (no savings index in memory, none in a store) HEADs again, so the scan can be held mid-way.
    const { service: fresh } = createService({ cacheTtlMs: 60_000 });
    control.pauseAfter = 5;
    await fresh.start(SMALL);
    const watching = collect(fresh.watch(SMALL));
    await control.reached.promise;
    fresh.invalidate(SMALL); // an upload landed while the scan ran
    control.resumed.resolve();
    expect((await watching).at(-1)?.event.state).toBe("DONE");
    expect(fresh.status(SMALL)).toMatchObject({ pending: false });
    expect(fresh.status(SMALL).figures).toBeUndefined();
  });

  it("reports an empty bucket as 0 %, and refuses missing and hidden buckets", async () => {
    const { service } = createService();
    await service.start(EMPTY);
    const events = (await collect(service.watch(EMPTY))).map((t) => t.event);
    expect(figuresOf(events.at(-1))).toEqual({ objectCount: 0, originalBytes: 0, storedBytes: 0, savingsPct: 0 });
    await expect(service.start("savings-missing")).rejects.toMatchObject({ code: "bucket_not_found" });
    await expect(service.start("glider-system")).rejects.toMatchObject({ code: "bucket_not_found" });
    expect(service.cancel("savings-missing")).toBe(false);
  });

  it("ends a watch when its signal aborts", async () => {
    const { service } = createService();
    const controller = new AbortController();
    const watching = collect(service.watch(SMALL, controller.signal)); // no job yet: waits for one
    await settled(); // the watch is now waiting for a job (nothing else is queued)
    controller.abort();
    expect(await watching).toEqual([]);
    const aborted = new AbortController();
    aborted.abort();
    expect(await collect(service.watch(SMALL, aborted.signal))).toEqual([]);

    // A reader that leaves while waiting (GraphQL `complete`) ends the pending read at once.
    const iterator = service.watch(SMALL)[Symbol.asyncIterator]();
    const pending = iterator.next();
    await iterator.return?.();
    expect(await pending).toMatchObject({ done: true });
  });
});
