import autocannon from "autocannon";
import { objectsQuery, objectsUrl } from "../lib/api.js";
import { deltaFolder } from "../lib/data.js";
import { log, type Resources, SCALE, scaled } from "../lib/env.js";
import { startGlider } from "../lib/glider.js";
import { jsonRequest } from "../lib/http.js";
import type { Part } from "../lib/part.js";
import { row } from "../lib/report.js";
import { cpuMeter } from "../lib/rss.js";
import { createBucket, s3Client, s3rverPid, startS3, writeRawObjects } from "../lib/s3.js";
import { median, now } from "../lib/stats.js";

const BUCKET = "bench-graphql";
const PREFIX = "releases/";
const CONNECTIONS = 10;

type Result = Awaited<ReturnType<typeof autocannon>>;

async function cannon(what: string, options: Parameters<typeof autocannon>[0]): Promise<Result> {
  const result = await autocannon(options);
  if (result.non2xx > 0) throw new Error(`${what}: ${result.non2xx} answers with a status other than 2xx`);
  if (result.errors > 0 || result.timeouts > 0) {
    log("graphql", `${what}: ${result.errors} connection errors, ${result.timeouts} timeouts (10 s)`);
  }
  return result;
}

/**
 * p50/p99 latency and req/s of the objects page (200 rows) through GraphQL and through REST, autocannon with 10
 * connections for 20 s each (× BENCH_SCALE, at least 2 s), on a folder of 2,000 logical objects. A third run asks
 * for the same rows through `buckets` instead of `bucket(name:)`, which skips the per-request HeadBucket: on s3rver
 * a HEAD of a bucket is served as a full GET-bucket listing, so that run separates the GraphQL layer's own cost
 * from s3rver's. CPU per request of Glider, s3rver and the bench (autocannon) is reported for each run.
 */
export const graphql: Part = {
  name: "graphql",
  describe: "p50/p99 and req/s of the 200-row objects page via GraphQL vs REST (autocannon, 10 connections)",
  async run(resources: Resources) {
    const P = "graphql";
    const count = scaled(2_000, 400);
    const seconds = Math.max(2, Math.round(20 * SCALE));
    const s3 = resources.add(await startS3(), (s) => s.stop(), "s3rver");
    const client = s3Client(s3);
    await createBucket(client, BUCKET);
    await writeRawObjects(s3, BUCKET, deltaFolder(PREFIX, count, 5));
    const glider = resources.add(
      await startGlider({ s3, env: { OBJECTS_RATE_LIMIT: "0" }, profileName: P }),
      (g) => g.stop(),
      "glider",
    );

    const restUrl = objectsUrl(glider, BUCKET, PREFIX);
    const query = objectsQuery(BUCKET, PREFIX);
    const body = JSON.stringify({ query });
    // Same rows both ways (and both warm: listing and HEADs cached).
    const rest = await jsonRequest<{ objects: { key: string }[] }>("GET", restUrl);
    const gql = await jsonRequest<{
      data?: { bucket: { objects: { edges: { node: { key: string } }[] } } };
      errors?: unknown;
    }>("POST", `${glider.url}/graphql`, { query });
    const gqlKeys = gql.data?.bucket.objects.edges.map((e) => e.node.key) ?? [];
    if (gql.errors || gqlKeys.length !== 200 || gqlKeys.join() !== rest.objects.map((o) => o.key).join()) {
      throw new Error(`GraphQL and REST pages differ: ${JSON.stringify(gql.errors ?? gqlKeys.slice(0, 3))}`);
    }

    // Diagnostics: what a GraphQL request costs before the page (sequential p50s).
    const probe = async (q: string) => {
      const times: number[] = [];
      for (let i = 0; i < 15; i++) {
        const started = now();
        await jsonRequest("POST", `${glider.url}/graphql`, { query: q });
        times.push(now() - started);
      }
      return median(times);
    };
    // The only visible bucket, so `buckets` lists exactly the page above.
    const bucketsQuery = query.replace(/^\{ bucket\(name: "[^"]+"\)/, "{ buckets");
    if (bucketsQuery === query) throw new Error("could not derive the buckets query");
    const healthP50 = await probe("{ health { status } }");
    const bucketP50 = await probe(`{ bucket(name: ${JSON.stringify(BUCKET)}) { name } }`);
    const pageP50 = await probe(query);

    const pids = { glider: glider.pid, s3rver: s3rverPid(s3), bench: process.pid };
    log(P, `REST: ${CONNECTIONS} connections for ${seconds} s`);
    let meter = cpuMeter(pids);
    const r = await cannon("REST", { url: restUrl, connections: CONNECTIONS, duration: seconds });
    const restCpu = meter.stop();
    log(P, `GraphQL: ${CONNECTIONS} connections for ${seconds} s`);
    meter = cpuMeter(pids);
    const g = await cannon("GraphQL", {
      url: `${glider.url}/graphql`,
      connections: CONNECTIONS,
      duration: seconds,
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const gqlCpu = meter.stop();
    // The same page reached through `buckets` (one ListBuckets, no HeadBucket): the GraphQL layer on its own.
    log(P, `GraphQL via buckets: ${CONNECTIONS} connections for ${seconds} s`);
    meter = cpuMeter(pids);
    const viaBuckets = await cannon("GraphQL via buckets", {
      url: `${glider.url}/graphql`,
      connections: CONNECTIONS,
      duration: seconds,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: bucketsQuery }),
    });
    const viaCpu = meter.stop();
    /** CPU milliseconds per request of each process in a run. */
    const perRequest = (cpu: Record<string, number>, result: Result) =>
      Object.entries(cpu)
        .map(([name, sec]) => `${name} ${((sec * 1000) / Math.max(1, result.requests.total)).toFixed(2)} ms`)
        .join(", ");
    const note =
      `${CONNECTIONS} connections × ${seconds} s each; ${count.toLocaleString("en-US")}-object folder; ` +
      `one at a time (p50): { health } ${healthP50.toFixed(1)} ms, { bucket(name) { name } } ${bucketP50.toFixed(1)} ms, ` +
      `the page ${pageP50.toFixed(1)} ms`;
    return [
      row(P, "GraphQL objects page p50", g.latency.p50, "ms", {
        baseline: { name: "REST page p50", value: r.latency.p50 },
        goal: { on: "ratio", op: "<=", limit: 1.2 },
        note,
      }),
      row(P, "GraphQL objects page p99", g.latency.p99, "ms", {
        baseline: { name: "REST page p99", value: r.latency.p99 },
        goal: { on: "ratio", op: "<=", limit: 1.2 },
      }),
      row(P, "GraphQL page via { buckets { objects } } p50", viaBuckets.latency.p50, "ms", {
        baseline: { name: "REST page p50", value: r.latency.p50 },
        note:
          `diagnostic: the same rows without bucket(name:)'s HeadBucket (one ListBuckets instead); p99 ` +
          `${viaBuckets.latency.p99} ms (REST ${r.latency.p99} ms), ${viaBuckets.requests.average} req/s; CPU per ` +
          `request: ${perRequest(viaCpu, viaBuckets)}`,
      }),
      row(P, "GraphQL objects page", g.requests.average, "req/s", {
        baseline: { name: "REST page", value: r.requests.average },
        note: `CPU per request: REST ${perRequest(restCpu, r)}; GraphQL ${perRequest(gqlCpu, g)}`,
      }),
    ];
  },
};
