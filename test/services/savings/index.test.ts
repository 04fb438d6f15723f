import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices, type Services } from "../../../src/services/index.js";
import { indexKey, parseIndex } from "../../../src/services/savings/index-store.js";
import type { SavingsProgress } from "../../../src/services/savings/jobs.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { testConfig } from "../../helpers/app.js";
import { expected, loadBucketFixture } from "../../helpers/bucket-fixture.js";
import {
  expectedSavings,
  type GeneratedObject,
  planSavingsBucket,
  writeSavingsBucket,
} from "../../helpers/savings-bucket.js";

const FIXTURE = "fixture";
const GENERATED = "generated";

/** Heads per bucket (the counting helper counts per operation only). */
function headCounter(inner: ObjectStore) {
  const heads: Record<string, number> = {};
  const store: ObjectStore = {
    ...inner,
    headObject: (bucket, key, signal) => {
      heads[bucket] = (heads[bucket] ?? 0) + 1;
      return inner.headObject(bucket, key, signal);
    },
  };
  return {
    store,
    heads: (bucket: string) => heads[bucket] ?? 0,
    reset: () => {
      for (const k of Object.keys(heads)) delete heads[k];
    },
  };
}

/** One scan through the savings service: start → terminal event. */
async function scan(services: Services, bucket: string): Promise<SavingsProgress> {
  await services.savings.start(bucket);
  let last: SavingsProgress | undefined;
  for await (const event of services.savings.watch(bucket)) last = event;
  if (last?.state !== "DONE") throw new Error(`scan ended ${JSON.stringify(last)}`);
  return last;
}

function figures(p: SavingsProgress) {
  return {
    objectCount: p.objectCount,
    originalBytes: p.originalBytes,
    storedBytes: p.storedBytes,
    savingsPct: p.savingsPct,
  };
}

describe("incremental savings index", () => {
  const inner = createMemoryStore();
  const counter = headCounter(inner);
  const config = testConfig({ ENCODE_THREADS: "1" });
  const open: Services[] = [];
  /** A fresh process over the same storage: nothing in memory, the index only in the system bucket. */
  const instance = () => {
    const services = createServices(config, pino({ level: "silent" }), { store: counter.store });
    open.push(services);
    return services;
  };
  /** Deltas a scan must HEAD: all but those hidden by a plain twin. */
  const deltasOf = (plan: readonly GeneratedObject[]) => {
    const keys = new Set(plan.map((o) => o.key));
    return plan.filter((o) => o.key.endsWith(".delta") && !keys.has(o.key.slice(0, -".delta".length))).length;
  };

  beforeAll(async () => {
    await loadBucketFixture(inner, FIXTURE);
  });
  afterAll(async () => {
    for (const services of open) await services.close();
  });

  it("gives the exact figures of `deltaglider stats --detailed`, and a second process reuses the index (no HEAD)", async () => {
    const first = instance();
    counter.reset();
    const done = await scan(first, FIXTURE);
    expect(figures(done)).toEqual({
      objectCount: 25,
      originalBytes: 8_084_849,
      storedBytes: 2_561_166,
      savingsPct: expected.totals.savings_pct,
    });
    expect(counter.heads(FIXTURE)).toBe(expected.totals.deltas);

    // Written back to the system bucket, one entry per logical object.
    const record = await first.store.getObject({ bucket: config.send.systemBucket, key: indexKey(FIXTURE) });
    const chunks: Buffer[] = [];
    for await (const chunk of record.body) chunks.push(Buffer.from(chunk as Uint8Array));
    const index = parseIndex(FIXTURE, JSON.parse(Buffer.concat(chunks).toString("utf8")));
    expect(index?.size).toBe(expected.totals.logical_objects);

    const second = instance();
    counter.reset();
    const again = await scan(second, FIXTURE);
    expect(figures(again)).toEqual(figures(done));
    expect(counter.heads(FIXTURE)).toBe(0);
  });

  it("a rescan after an out-of-band change HEADs only the changed deltas and reconciles the figures", async () => {
    const plan = planSavingsBucket(1_000, 7);
    await writeSavingsBucket(inner, GENERATED, plan);
    const first = instance();
    counter.reset();
    const before = await scan(first, GENERATED);
    expect(counter.heads(GENERATED)).toBe(deltasOf(plan));
    expect(figures(before)).toEqual(await expectedSavings(inner, GENERATED, plan));

    // Another tool: 10 deltas rewritten (new body and size), 2 rewritten with new metadata only (same ETag),
    // 3 deltas deleted, 5 deltas added.
    const keys = new Set(plan.map((o) => o.key));
    const deltas = plan.filter(
      (o) =>
        o.key.endsWith(".delta") &&
        o.metadata["dg-file-size"] !== undefined &&
        !keys.has(o.key.slice(0, -".delta".length)),
    );
    const rewritten = deltas.slice(0, 10);
    const retagged = deltas.slice(10, 12);
    const deleted = deltas.slice(12, 15);
    const changed: GeneratedObject[] = [];
    for (const o of rewritten) {
      changed.push({
        key: o.key,
        size: o.size + 7,
        metadata: { ...o.metadata, "dg-file-size": String(Number(o.metadata["dg-file-size"]) + 1_000) },
      });
    }
    for (const o of retagged) {
      changed.push({
        ...o,
        metadata: { ...o.metadata, "dg-file-size": String(Number(o.metadata["dg-file-size"]) + 333) },
      });
    }
    const added = Array.from({ length: 5 }, (_, i) => ({
      ...deltas[20],
      key: deltas[20].key.replace(/[^/]*$/, `added-${i}.zip.delta`),
      metadata: { ...deltas[20].metadata, "dg-file-size": String(50_000 + i) },
    }));
    changed.push(...added);
    await writeSavingsBucket(inner, GENERATED, changed);
    for (const o of deleted) await inner.deleteObject(GENERATED, o.key);
    const byKey = new Map(plan.map((o) => [o.key, o]));
    for (const o of changed) byKey.set(o.key, o);
    for (const o of deleted) byKey.delete(o.key);
    const now = [...byKey.values()];

    const second = instance();
    counter.reset();
    const after = await scan(second, GENERATED);
    expect(counter.heads(GENERATED)).toBe(rewritten.length + retagged.length + added.length);
    const truth = await expectedSavings(inner, GENERATED, now);
    expect(figures(after)).toEqual(truth);
    expect(truth.originalBytes).not.toBe(before.originalBytes);

    // Reconciled and written back: the next process needs no HEAD at all.
    const third = instance();
    counter.reset();
    expect(figures(await scan(third, GENERATED))).toEqual(truth);
    expect(counter.heads(GENERATED)).toBe(0);
  });

  it("Glider's own uploads and deletes update the index as they happen: the rescan needs no HEAD", async () => {
    const services = instance();
    const before = await scan(services, FIXTURE);
    const source = expected.objects.find((o) => o.key === "apps/viewer/viewer-4.1.1.zip");
    if (!source) throw new Error("the fixture has no restorable delta");
    const original = await services.objects.open(FIXTURE, source.key);
    const chunks: Buffer[] = [];
    for await (const chunk of original.body) chunks.push(Buffer.from(chunk as Uint8Array));
    const body = Buffer.concat(chunks);
    body[body.length >> 1] ^= 0xff; // a new version beside it
    const key = source.key.replace(/[^/]*$/, "uploaded-by-glider.zip");
    const uploaded = await services.objects.upload(FIXTURE, key, body);
    expect(uploaded).toMatchObject({ storedAs: "delta", physicalKey: `${key}.delta` });

    counter.reset();
    const after = await scan(services, FIXTURE);
    expect(counter.heads(FIXTURE)).toBe(0);
    expect(after.objectCount).toBe(before.objectCount + 1);
    expect(after.originalBytes).toBe(before.originalBytes + body.length);
    expect(after.storedBytes).toBe(before.storedBytes + uploaded.storedBytes);

    await services.objects.delete(FIXTURE, key);
    counter.reset();
    expect(figures(await scan(services, FIXTURE))).toEqual(figures(before));
    expect(counter.heads(FIXTURE)).toBe(0);

    // The upload's entry reached the system bucket (flushed on close): a new process needs no HEAD either.
    await services.objects.upload(FIXTURE, key, body);
    await services.close();
    open.splice(open.indexOf(services), 1);
    const next = instance();
    counter.reset();
    expect(figures(await scan(next, FIXTURE))).toEqual(figures(after));
    expect(counter.heads(FIXTURE)).toBe(0);
  });
});
