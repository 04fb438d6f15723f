import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GliderError } from "../../../src/services/errors.js";
import { createServices, type Services } from "../../../src/services/index.js";
import type { ObjectQuery } from "../../../src/services/objects/query.js";
import type { ObjectPage } from "../../../src/services/objects/service.js";
import { createIndexStore, indexKey, type SavingsIndex } from "../../../src/services/savings/index-store.js";
import { createSystemStore } from "../../../src/services/send/system-store.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { testConfig } from "../../helpers/app.js";
import { countingStore } from "../../helpers/counting-store.js";
import { planSavingsBucket, writeSavingsBucket } from "../../helpers/savings-bucket.js";

const BUCKET = "indexed";
const FOLDER = "apps/app-0/";
/** Sorts, orders and filters whose first two pages must not change when sizes come from the index. */
const QUERIES: Omit<ObjectQuery, "bucket">[] = [
  { sort: "name", order: "asc" },
  { sort: "modified", order: "desc" },
  { sort: "size", order: "desc" },
  { sort: "savings_pct", order: "asc" },
  { sort: "name", order: "desc", compressed: true },
  { sort: "modified", order: "asc", compressed: false },
  { sort: "size", order: "asc", search: "1" },
  // The whole folder on one page: every row's original size shows.
  { sort: "size", order: "desc", limit: 1000 },
];
const WHOLE_FOLDER = QUERIES.length - 1;

/** A page as the front doors serialise it (rows, folders, total, cursor), plus the second page's rows. */
async function twoPages(services: Services, query: Omit<ObjectQuery, "bucket">) {
  const base = { bucket: BUCKET, prefix: FOLDER, limit: 40, ...query };
  const first: ObjectPage = await services.objects.listObjects(base);
  const second = first.cursor ? await services.objects.listObjects({ ...base, cursor: first.cursor }) : undefined;
  const shape = (p: ObjectPage | undefined) =>
    p && JSON.stringify({ objects: p.objects, commonPrefixes: p.commonPrefixes, total: p.total, cursor: p.cursor });
  return [shape(first), shape(second)];
}

describe("cold listings take original sizes from the savings index", () => {
  const memory = createMemoryStore();
  /** Fails reads of the index when set, as an unreachable system bucket would. */
  let indexUnreadable = false;
  const inner: ObjectStore = {
    ...memory,
    async getObject(input) {
      if (indexUnreadable && input.key.startsWith("savings-index/")) {
        throw new GliderError("storage_unavailable", "system bucket unreachable");
      }
      return memory.getObject(input);
    },
  };
  const counter = countingStore(inner);
  // One cursor secret for every instance, so pages of different processes can be compared byte for byte.
  const config = testConfig({ ENCODE_THREADS: "1", DOWNLOAD_TOKEN_SECRET: "c".repeat(48) });
  const indexes = createIndexStore(createSystemStore(memory, config.send.systemBucket));
  const open: Services[] = [];
  /** A fresh process: nothing cached, the index (if any) only in the system bucket. */
  const instance = () => {
    const services = createServices(config, pino({ level: "silent" }), { store: counter.store });
    open.push(services);
    return services;
  };
  const indexGets = () => counter.gets[indexKey(BUCKET)] ?? 0;
  /** Every query's two pages as HEADs alone give them (no index in the system bucket). */
  const expected = new Map<number, (string | undefined)[]>();
  let scanned: SavingsIndex;

  beforeAll(async () => {
    await writeSavingsBucket(memory, BUCKET, planSavingsBucket(600, 5));
    const plain = instance();
    for (const [i, query] of QUERIES.entries()) {
      plain.objects.forgetAll();
      expected.set(i, await twoPages(plain, query));
    }
    // A savings scan writes the index to the system bucket, as after a first scan of the bucket.
    await plain.savings.start(BUCKET);
    for await (const event of plain.savings.watch(BUCKET)) if (event.state !== "RUNNING") break;
    const saved = await indexes.load(BUCKET);
    if (!saved) throw new Error("the scan wrote no index");
    scanned = saved;
  });
  afterAll(async () => {
    for (const services of open) await services.close();
  });

  it("serves every sort and filter from a matching index with zero HEADs, equal to the HEAD-based pages", async () => {
    const services = instance();
    counter.reset();
    for (const [i, query] of QUERIES.entries()) {
      services.objects.forgetAll();
      expect(await twoPages(services, query), JSON.stringify(query)).toEqual(expected.get(i));
    }
    expect(counter.calls.headObject).toBe(0);
    // Read once; then held in memory by the savings service, so caches dropped by forgetAll cost no second GET.
    expect(indexGets()).toBe(1);
  });

  it("HEADs a delta whose index entry has another ETag or LastModified, and shows its exact size", async () => {
    const deltas = [...scanned.entries()].filter(([key]) => key.startsWith(FOLDER) && key.endsWith(".delta"));
    const tampered: SavingsIndex = new Map(scanned);
    const [retagged, redated] = deltas;
    // Wrong original sizes: a page that used these entries would show them.
    tampered.set(retagged[0], { ...retagged[1], etag: '"0123456789abcdef0123456789abcdef"', originalBytes: 1 });
    tampered.set(redated[0], { ...redated[1], modified: (redated[1].modified ?? 0) + 1_000, originalBytes: 2 });
    await indexes.save(BUCKET, tampered);
    try {
      const services = instance();
      counter.reset();
      expect(await twoPages(services, QUERIES[WHOLE_FOLDER])).toEqual(expected.get(WHOLE_FOLDER));
      expect(counter.calls.headObject).toBe(2);
    } finally {
      await indexes.save(BUCKET, scanned);
    }
  });

  it("without an index, pages are HEAD-based and the missing index is read once, not once per page", async () => {
    await memory.deleteObject(config.send.systemBucket, indexKey(BUCKET));
    try {
      const services = instance();
      counter.reset();
      const pages = await Promise.all(QUERIES.map((query) => twoPages(services, query)));
      expect(pages).toEqual(QUERIES.map((_, i) => expected.get(i)));
      expect(counter.calls.headObject).toBeGreaterThan(0);
      expect(indexGets()).toBe(1);
    } finally {
      await indexes.save(BUCKET, scanned);
    }
  });

  it("an unreadable index costs no error: the page is HEAD-based", async () => {
    indexUnreadable = true;
    try {
      const services = instance();
      counter.reset();
      expect(await twoPages(services, QUERIES[0])).toEqual(expected.get(0));
      expect(await twoPages(services, QUERIES[1])).toEqual(expected.get(1));
      expect(counter.calls.headObject).toBeGreaterThan(0);
      expect(indexGets()).toBe(1);
    } finally {
      indexUnreadable = false;
    }
  });
});
