import { describe, expect, it } from "vitest";
import { createCatalogue } from "../../../src/services/deltaglider/catalogue.js";
import { compareKeys } from "../../../src/services/storage/keys.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ListObjectsInput, ObjectStore } from "../../../src/services/storage/object-store.js";
import { listInParallel } from "../../../src/services/storage/parallel-listing.js";
import { seededRandom } from "../../helpers/vcdiff-fixtures.js";

const BUCKET = "parallel";

/** Counts LIST calls and how many ran at once; each call yields to the event loop so that others can start. */
function observed(inner: ObjectStore) {
  const stats = { calls: 0, fullPages: 0, inFlight: 0, maxInFlight: 0, failAt: 0 };
  const store: ObjectStore = {
    ...inner,
    async listObjects(input: ListObjectsInput) {
      stats.calls++;
      if ((input.maxKeys ?? 1000) > 1) stats.fullPages++;
      if (stats.failAt && stats.calls >= stats.failAt) throw new Error(`LIST ${stats.calls} failed`);
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        await new Promise((resolve) => setImmediate(resolve));
        return await inner.listObjects(input);
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { store, stats };
}

async function storeWith(keys: readonly string[]) {
  const store = createMemoryStore();
  await store.createBucket(BUCKET);
  for (const key of keys) await store.putObject({ bucket: BUCKET, key, body: Buffer.from("v") });
  return store;
}

/** The folder as one continuation-token walk sees it. */
async function sequential(store: ObjectStore, prefix: string, delimiter: string | undefined, maxKeys: number) {
  const objects: string[] = [];
  const prefixes: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await store.listObjects({ bucket: BUCKET, prefix, delimiter, maxKeys, continuationToken: token });
    objects.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.commonPrefixes);
    token = page.nextContinuationToken;
    pages++;
  } while (token);
  return { objects, prefixes, pages };
}

async function parallel(
  store: ObjectStore,
  prefix: string,
  delimiter: string | undefined,
  pageSize: number,
  concurrency = 4,
) {
  const objects: string[] = [];
  const prefixes: string[] = [];
  for await (const page of listInParallel(store, { bucket: BUCKET, prefix, delimiter }, { concurrency, pageSize })) {
    objects.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.commonPrefixes);
  }
  return { objects, prefixes };
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** Key sets of the shapes folders have: counters, hashes, versions, dates, sub-folders, lopsided and odd names. */
function shapes(random: () => number): Record<string, string[]> {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
  const numbered = Array.from(
    { length: 3000 },
    (_, i) => `r/build-${pad(i, 6)}${random() < 0.8 ? ".zip.delta" : ".txt"}`,
  );
  return {
    "a numbered release folder": [...numbered, "r/reference.bin"],
    hashes: Array.from({ length: 2500 }, () => `r/${hex(32)}`),
    "versions with twins": Array.from({ length: 700 }, (_, i) => {
      const name = `r/app-v${Math.floor(i / 100)}.${Math.floor(i / 10) % 10}.${i % 10}.zip`;
      return i % 7 === 0 ? [name, `${name}.delta`] : [i % 2 ? `${name}.delta` : name];
    }).flat(),
    "dated sub-folders and files": Array.from({ length: 1500 }, (_, i) => {
      const day = `2026-${pad((i % 12) + 1, 2)}-${pad((i % 28) + 1, 2)}`;
      return i % 3 === 0 ? `r/${day}/part-${i}.bin` : `r/${day}-${pad(i, 5)}.log`;
    }),
    "a few names then one huge group": [
      "r/a1",
      "r/a2",
      "r/b",
      ...Array.from({ length: 2000 }, (_, i) => `r/d${pad(i, 5)}`),
      "r/zz/inner",
    ],
    "unicode, private-use and past-the-sentinel names": [
      ...Array.from({ length: 400 }, (_, i) => `r/é${pad(i, 4)}`),
      ...Array.from({ length: 400 }, (_, i) => `r/\uE000${pad(i, 4)}`),
      ...Array.from({ length: 400 }, (_, i) => `r/\u{1F600}${pad(i, 4)}`),
      ...Array.from({ length: 50 }, (_, i) => `r/\u{10FFFF}${pad(i, 3)}`),
      "r/\u{10FFFF}\u{10FFFF}/x",
      "r/\u{10FFFF}",
      "r/",
      "r/ ",
    ],
  };
}

describe("listInParallel: a folder read by several LISTs at once", () => {
  const random = seededRandom(20261203);
  for (const [shape, keys] of Object.entries(shapes(random))) {
    for (const delimiter of ["/", undefined]) {
      it(`${shape} (${delimiter ? "folder" : "flat"}): every entry once, in the walk's order`, async () => {
        const memory = await storeWith(keys);
        const { store, stats } = observed(memory);
        for (const pageSize of [1, 7, 100]) {
          const expected = await sequential(memory, "r/", delimiter, pageSize);
          stats.calls = 0;
          stats.fullPages = 0;
          const got = await parallel(store, "r/", delimiter, pageSize);
          expect(got.objects).toEqual(expected.objects);
          expect(got.prefixes).toEqual(expected.prefixes);
          expect(stats.maxInFlight).toBeLessThanOrEqual(4);
          // A guessed boundary costs at most a call: an empty range, or the page that finds a range's end.
          expect(stats.fullPages).toBeLessThanOrEqual(2 * expected.pages + 2);
        }
      });
    }
  }

  it("walks a numbered folder of 30 pages with several LISTs in flight, a call more per range at most", async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `r/build-${pad(i, 6)}.zip.delta`);
    const { store, stats } = observed(await storeWith(keys));
    const got = await parallel(store, "r/", "/", 100);
    expect(got.objects).toEqual(keys);
    expect(stats.maxInFlight).toBe(4);
    // 30 pages; the first splits the rest at build-0001 … build-0009 (100 keys each), whose ends cost a call each.
    expect(stats.calls).toBeLessThanOrEqual(30 + 10);
  });

  it("splits a hash-named folder at its first hex digit", async () => {
    const random = seededRandom(7);
    const hex = () => Array.from({ length: 24 }, () => Math.floor(random() * 16).toString(16)).join("");
    const keys = Array.from({ length: 6400 }, () => `r/${hex()}`).sort(compareKeys);
    const { store, stats } = observed(await storeWith(keys));
    const got = await parallel(store, "r/", "/", 100);
    expect(got.objects).toEqual(keys);
    expect(stats.maxInFlight).toBe(4);
    // 64 pages; 16 ranges of about 4 pages, each finding its end with at most one call more.
    expect(stats.calls).toBeLessThanOrEqual(64 + 16 + 1);
  });

  it("one LIST in flight with concurrency 1, and a single call for a folder of one page", async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `r/k${pad(i, 4)}`);
    const { store, stats } = observed(await storeWith(keys));
    expect((await parallel(store, "r/", "/", 1000)).objects).toEqual(keys);
    expect(stats.calls).toBe(1);
    expect((await parallel(store, "r/", "/", 10, 1)).objects).toEqual(keys);
    expect(stats.maxInFlight).toBe(1);
  });

  it("an empty folder is one call and no entries", async () => {
    const { store, stats } = observed(await storeWith(["other/x"]));
    expect(await parallel(store, "r/", "/", 10)).toEqual({ objects: [], prefixes: [] });
    expect(stats.calls).toBe(1);
  });

  it("a failed LIST fails the listing, and nothing is left running", async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `r/build-${pad(i, 6)}`);
    const { store, stats } = observed(await storeWith(keys));
    stats.failAt = 9;
    await expect(parallel(store, "r/", "/", 50)).rejects.toThrow(/LIST 9 failed|LIST \d+ failed/);
    // Calls already queued are dropped with the listing: the count stops growing once the failure is seen.
    const after = stats.calls;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stats.calls).toBe(after);
    expect(stats.inFlight).toBe(0);
  });

  it("a reader that stops early stops the walk", async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `r/build-${pad(i, 6)}`);
    const { store, stats } = observed(await storeWith(keys));
    for await (const page of listInParallel(
      store,
      { bucket: BUCKET, prefix: "r/", delimiter: "/" },
      {
        concurrency: 4,
        pageSize: 50,
      },
    )) {
      expect(page.objects[0]?.key).toBe("r/build-000000");
      break;
    }
    const after = stats.calls;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stats.calls).toBe(after);
  });
});

describe("Catalogue.list over parallel LISTs", () => {
  it("gives the same logical listing as one walk: twins, references, folders", async () => {
    const keys = [
      "r/reference.bin",
      ...Array.from({ length: 2500 }, (_, i) => `r/build-${pad(i, 5)}.zip${i % 3 ? ".delta" : ""}`),
      "r/build-00007.zip",
      "r/build-00007.zip-manifest.json",
      "r/sub/reference.bin",
      "r/sub/x.zip.delta",
      "r/.deltaglider/tmp/x",
    ];
    const store = await storeWith(keys);
    const one = await createCatalogue(store, { listConcurrency: 1 }).list(BUCKET, "r/");
    const seen: number[] = [];
    const many = await createCatalogue(store, { listConcurrency: 4 }).list(BUCKET, "r/", undefined, (page) =>
      seen.push(page.entries.length),
    );
    expect(many).toEqual(one);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(one.objects.length);
  });
});
