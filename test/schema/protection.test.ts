import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { indexKey } from "../../src/services/savings/index-store.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { startBrowseApp } from "../helpers/browse-app.js";
import { countingStore } from "../helpers/counting-store.js";
import { gql } from "../helpers/graphql.js";
import { seedLargeFolder } from "../helpers/large-folder.js";

describe("GraphQL protection", () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app, base } = await startBrowseApp(createMemoryStore(), { GRAPHQL_MAX_COST: "500" }));
  });
  afterAll(() => app.close());

  it("rejects too deep, too many aliases, too costly and too long documents with a clear error", async () => {
    const fine = await gql(base, "{ buckets { name objects(first: 1) { edges { node { key sha256 } } } } }");
    expect(fine.errors).toBeUndefined();

    let nested = "id";
    for (let i = 0; i < 8; i++) nested = `... on Bucket { objects { edges { node { ${nested} } } } }`;
    const depth = (await gql(base, `{ node(id: "x") { ${nested} } }`)).errors ?? [];
    expect(depth[0]?.message).toMatch(/depth/i);

    const aliases = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: buckets { name }`).join(" ")} }`;
    expect((await gql(base, aliases)).errors?.[0]?.message).toMatch(/alias/i);

    const fields = "key name bucket sha256 modified originalBytes storedBytes compressed savingsPct acceptRanges";
    const costly = `{ ${Array.from(
      { length: 14 },
      (_, i) => `b${i}: buckets { objects { edges { node { ${fields} } } pageInfo { hasNextPage endCursor } } }`,
    ).join(" ")} }`;
    expect((await gql(base, costly)).errors?.[0]?.message).toMatch(/cost/i);

    const tokens = `{ buckets { ${Array.from({ length: 2500 }, () => "name").join(" ")} } }`;
    const defaults = await startBrowseApp(createMemoryStore());
    const tokenErrors = (await gql(defaults.base, tokens)).errors ?? [];
    await defaults.app.close();
    expect(tokenErrors[0]?.message).toMatch(/token/i);
  });

  it("applies the per-IP listing rate limit to Bucket.objects", async () => {
    const limited = await startBrowseApp(createMemoryStore(), { OBJECTS_RATE_LIMIT: "5" });
    // The limiter's clock stands still during the requests, so no token refills between them however slow they are.
    vi.useFakeTimers({ toFake: ["performance"] });
    const codes: (string | undefined)[] = [];
    try {
      for (let i = 0; i < 7; i++) {
        const res = await gql(limited.base, '{ bucket(name: "fixture") { objects(first: 1) { totalCount } } }');
        codes.push(res.errors?.[0]?.extensions?.code);
      }
    } finally {
      vi.useRealTimers();
      await limited.app.close();
    }
    expect(codes).toEqual([undefined, undefined, undefined, undefined, undefined, "throttled", "throttled"]);
  });
});

describe("masking", () => {
  it("hides unexpected errors behind a generic message with code internal", async () => {
    const inner = createMemoryStore();
    const broken: ObjectStore = {
      ...inner,
      listBuckets: async () => {
        throw new Error("secret connection string leaked here");
      },
    };
    const { app, base } = await startBrowseApp(broken);
    const res = await gql(base, "{ buckets { name } }");
    expect(res.errors?.[0]).toMatchObject({ message: "Unexpected error.", extensions: { code: "internal" } });
    expect(JSON.stringify(res)).not.toContain("secret");
    await app.close();
  });
});

describe("DataLoader batching", () => {
  it("a page of 200 objects costs one listing and at most one metadata read per object, however many aliases ask", async () => {
    const counting = countingStore(createMemoryStore());
    await seedLargeFolder(counting.store);
    const { app, base } = await startBrowseApp(counting.store);
    const fields = "key name originalBytes storedBytes compressed savingsPct sha256 s2: sha256 modified";
    for (const sort of ["NAME_ASC", "NAME_DESC"]) {
      counting.reset();
      const query = `{
        a: bucket(name: "fixture") { objects(prefix: "big/", first: 200, sort: ${sort}) { edges { node { ${fields} } } } }
        b: bucket(name: "fixture") { objects(prefix: "big/", first: 200, sort: ${sort}) { edges { node { k2: key sha256 } } } }
        c: bucket(name: "fixture") { name }
      }`;
      const res = await gql(base, query);
      expect(res.errors).toBeUndefined();
      type Edges = { node: { sha256: string | null; compressed: boolean } }[];
      const edges = (res.data as { a: { objects: { edges: Edges } } }).a.objects.edges;
      expect(edges).toHaveLength(200);
      // Deltas carry DeltaGlider's sha256; the plain files of this folder have none.
      for (const { node } of edges) expect(node.sha256).toBe(node.compressed ? "1".repeat(64) : null);
      // One LIST walk of the folder (the store pages 1,000 keys at a time) serves every alias; cached after that.
      expect(counting.calls.listObjects).toBe(sort === "NAME_ASC" ? 2 : 0);
      expect(counting.calls.headObject).toBeLessThanOrEqual(200);
      expect(counting.calls.bucketExists).toBe(sort === "NAME_ASC" ? 1 : 0);
      // The one GET: the cold page looks for the bucket's savings index (original sizes without HEADs), once.
      expect(counting.gets).toEqual(sort === "NAME_ASC" ? { [indexKey("fixture")]: 1 } : {});
    }
    await app.close();
  });
});
