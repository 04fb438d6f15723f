import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SYSTEM_BUCKET } from "../../../src/config.js";
import { isGliderError } from "../../../src/services/errors.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { getJson, postJson, startBrowseApp } from "../../helpers/browse-app.js";
import { gql } from "../../helpers/graphql.js";
import { transports } from "../../helpers/subscriptions.js";

const HIDDEN = DEFAULT_SYSTEM_BUCKET;

/** The code a synchronous or asynchronous call failed with, or "none". */
async function codeOf(call: () => unknown): Promise<string> {
  try {
    await call();
    return "none";
  } catch (error) {
    return isGliderError(error) ? error.code : "not a GliderError";
  }
}

describe("browsing rules live in the services: a hidden bucket reads as a missing one on every door", () => {
  let app: FastifyInstance;
  let base: string;
  let store: ObjectStore;

  beforeAll(async () => {
    store = createMemoryStore();
    ({ app, base } = await startBrowseApp(store));
    // The system bucket really exists (created at start-up) and holds something: only the rule hides it.
    await store.putObject({ bucket: HIDDEN, key: "tokens/x.json", body: Buffer.from("{}") });
    expect(await store.bucketExists(HIDDEN)).toBe(true);
  });
  afterAll(() => app.close());

  it("REST: compute-savings, stats and delete answer 404 bucket_not_found, the listing leaves it out", async () => {
    const answers = [
      await postJson(base, `/api/buckets/${HIDDEN}/compute-savings`, {}),
      await getJson(base, `/api/buckets/${HIDDEN}/stats`),
      await getJson(base, `/api/buckets/${HIDDEN}`, { method: "DELETE" }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe("bucket_not_found");
    }
    const listed = await getJson(base, "/api/buckets");
    expect(listed.body.buckets.map((b: { name: string }) => b.name)).toEqual(["fixture"]);
  });

  it("GraphQL queries and mutations answer as for a missing bucket", async () => {
    const answers = async (bucket: string) => ({
      started: await gql(base, `mutation { computeSavings(input: { bucket: "${bucket}" }) { job { taskId } } }`),
      object: await gql(base, `{ object(bucket: "${bucket}", key: "tokens/x.json") { key } }`),
      found: await gql(base, `{ bucket(name: "${bucket}") { name } }`),
    });
    const hidden = await answers(HIDDEN);
    expect(hidden.started.errors?.map((e) => e.extensions?.code)).toEqual(["bucket_not_found"]);
    expect(hidden.found).toEqual({ data: { bucket: null } });
    expect(JSON.stringify(hidden).replaceAll(HIDDEN, "B")).toBe(
      JSON.stringify(await answers("no-such-bucket")).replaceAll("no-such-bucket", "B"),
    );
    const listed = await gql<{ buckets: { name: string }[] }, Record<string, never>>(base, "{ buckets { name } }");
    expect(listed.data?.buckets.map((b) => b.name)).toEqual(["fixture"]);
  });

  for (const [transport, subscribe] of Object.entries(transports)) {
    it(`GraphQL subscription over ${transport}: bucket_not_found, as REST and the mutation`, async () => {
      const stream = subscribe(base, `subscription { savingsProgress(bucket: "${HIDDEN}") { state } }`);
      const results = await stream.rest();
      await stream.close();
      expect(results).toHaveLength(1);
      expect(results[0].errors?.map((e) => e.extensions?.code)).toEqual(["bucket_not_found"]);
    });
  }

  it("REST and GraphQL show one bucket view: figures computed through REST stats appear in GraphQL as they are", async () => {
    const stats = await getJson(base, "/api/buckets/fixture/stats?mode=quick");
    expect(stats.status).toBe(200);
    const rest = (await getJson(base, "/api/buckets")).body.buckets[0];
    const answer = await gql<{ bucket: Record<string, unknown> }, Record<string, never>>(
      base,
      `{ bucket(name: "fixture") { objectCount originalBytes storedBytes savingsPct pending computedAt } }`,
    );
    expect(rest.stats_loaded).toBe(true);
    expect(answer.data?.bucket).toEqual({
      objectCount: rest.object_count,
      originalBytes: rest.original_bytes,
      storedBytes: rest.stored_bytes,
      savingsPct: rest.savings_pct,
      pending: rest.pending,
      computedAt: rest.computed_at,
    });
  });

  it("the savings service itself refuses a hidden bucket on start, follow and watch", async () => {
    const { savings } = app.services;
    expect(await codeOf(() => savings.start(HIDDEN))).toBe("bucket_not_found");
    expect(await codeOf(() => savings.follow(HIDDEN))).toBe("bucket_not_found");
    // watch used to stream a hidden bucket's jobs to whoever asked.
    expect(await codeOf(() => savings.watch(HIDDEN))).toBe("bucket_not_found");
    expect(await codeOf(() => savings.start("fixture"))).toBe("none");
  });
});
