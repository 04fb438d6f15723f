import autocannon from "autocannon";
import { startRedis } from "../../test/helpers/cluster.js";
import { objectsUrl, prepareDownload, upload } from "../lib/api.js";
import { deltaFolder } from "../lib/data.js";
import { log, MB, type Resources, SCALE } from "../lib/env.js";
import { type GliderServer, startGlider } from "../lib/glider.js";
import { httpGet } from "../lib/http.js";
import type { Part } from "../lib/part.js";
import { setUpReleases } from "../lib/release-setup.js";
import { type Row, row } from "../lib/report.js";
import { writeRawObjects } from "../lib/s3.js";
import { median, now, percentile } from "../lib/stats.js";

const P = "scale";
const BUCKET = "bench-scale";
const PREFIX = "listing/";
const FOLDER_OBJECTS = 2000;
/** Sequential warm listings per server for the p50 comparison (interleaved between the two servers). */
const LATENCY_REPEATS = Math.max(40, Math.round(300 * Math.min(1, SCALE * 10)));
const CANNON_SECONDS = Math.max(2, Math.round(15 * SCALE));
const DOWNLOADS = Math.max(3, Math.round(12 * Math.min(1, SCALE * 5)));
const DOWNLOAD_CONCURRENCY = 3;

/** Every instance shares these; with REDIS_URL the session key is required too. */
const SHARED_ENV = {
  // Listings are rate-limited as in production, with a limit the benchmark never reaches: on Redis the limiter's
  // round trip is the listing's only shared-state cost.
  OBJECTS_RATE_LIMIT: "100000",
  SESSION_SECRET: "bench-session-secret-0123456789",
};

async function listingOk(url: string): Promise<number> {
  const got = await httpGet(url, { keepBody: true });
  if (got.status !== 200) throw new Error(`GET ${url}: ${got.status} ${got.body?.slice(0, 200)}`);
  return got.totalMs;
}

/** Listing req/s with `connections` spread over the servers (one autocannon per server, run at once). */
async function listingThroughput(servers: GliderServer[], connections: number): Promise<number> {
  const per = Math.max(1, Math.round(connections / servers.length));
  const results = await Promise.all(
    servers.map((server) =>
      autocannon({ url: objectsUrl(server, BUCKET, PREFIX, 200), connections: per, duration: CANNON_SECONDS }),
    ),
  );
  for (const r of results) {
    if (r.non2xx > 0) throw new Error(`listing throughput: ${r.non2xx} answers other than 2xx`);
  }
  return results.reduce((sum, r) => sum + r.requests.average, 0);
}

/** MB/s of `DOWNLOADS` reconstructed downloads, `DOWNLOAD_CONCURRENCY` at a time, round-robin over the servers. */
async function downloadThroughput(servers: GliderServer[], key: string, size: number): Promise<number> {
  const urls = await Promise.all(servers.map((s) => prepareDownload(s, BUCKET, key)));
  let next = 0;
  let bytes = 0;
  const started = now();
  await Promise.all(
    Array.from({ length: DOWNLOAD_CONCURRENCY }, async () => {
      while (next < DOWNLOADS) {
        const url = urls[next++ % urls.length];
        const got = await httpGet(url);
        if (got.status !== 200 || got.bytes !== size) throw new Error(`download: ${got.status}, ${got.bytes} bytes`);
        bytes += got.bytes;
      }
    }),
  );
  return bytes / MB / ((now() - started) / 1000);
}

/**
 * Several instances (issue #19): listing and download throughput of three instances sharing one s3rver and one
 * redis-server against one instance without Redis, and what the shared state costs a listing request (p50, warm,
 * one instance with Redis against one without, interleaved). On a 2-core machine three instances share the same
 * cores: the point is correctness under sharing and the per-request cost, not a speed-up.
 */
export const scale: Part = {
  name: "scale",
  describe: "3 instances on one Redis vs 1: listing/download throughput, shared-state cost per listing (p50)",
  async run(resources: Resources): Promise<Row[]> {
    const { s3, releases } = await setUpReleases(resources, P, [BUCKET]);
    await writeRawObjects(s3, BUCKET, deltaFolder(PREFIX, FOLDER_OBJECTS));
    const redis = resources.add(await startRedis(), (r) => r.stop(), "redis-server");
    const start = async (name: string, shared: boolean) =>
      resources.add(
        await startGlider({
          s3,
          env: { ...SHARED_ENV, ...(shared ? { REDIS_URL: redis.url } : {}) },
          profileName: name,
        }),
        (g) => g.stop(),
        name,
      );

    const solo = await start(`${P}-solo`, false);
    // The download: a delta of the second release, reconstructed on every GET.
    await upload(solo, BUCKET, "releases/app-1.0.zip", releases.v1);
    const second = await upload(solo, BUCKET, "releases/app-1.1.zip", releases.v2);
    if (second.answer.stored_as !== "delta") log(P, `app-1.1.zip stored as ${second.answer.stored_as}`);
    const key = "releases/app-1.1.zip";

    // Shared-state cost per listing: one instance with Redis against one without, warm, interleaved request by request.
    const withRedis = await start(`${P}-redis-1`, true);
    const soloUrl = objectsUrl(solo, BUCKET, PREFIX, 200);
    const redisUrl = objectsUrl(withRedis, BUCKET, PREFIX, 200);
    for (let i = 0; i < 10; i++) {
      await listingOk(soloUrl);
      await listingOk(redisUrl);
    }
    const plain: number[] = [];
    const shared: number[] = [];
    for (let i = 0; i < LATENCY_REPEATS; i++) {
      plain.push(await listingOk(soloUrl));
      shared.push(await listingOk(redisUrl));
    }
    const p50Plain = median(plain);
    const p50Shared = median(shared);
    log(P, `listing p50: ${p50Plain.toFixed(2)} ms alone, ${p50Shared.toFixed(2)} ms with Redis`);
    await withRedis.stop();

    const oneListing = await listingThroughput([solo], 6);
    const oneDownload = await downloadThroughput([solo], key, releases.sizeV2);
    log(P, `one instance: ${oneListing.toFixed(0)} listings/s, ${oneDownload.toFixed(1)} MB/s downloads`);
    await solo.stop();

    const three: GliderServer[] = [];
    for (let i = 0; i < 3; i++) three.push(await start(`${P}-redis-${i + 1}`, true));
    // As warm as the single instance was (JIT, caches, S3 connections) before measuring.
    for (const server of three) {
      for (let i = 0; i < LATENCY_REPEATS; i++) await listingOk(objectsUrl(server, BUCKET, PREFIX, 200));
      await downloadThroughput([server], key, releases.sizeV2);
    }
    const threeListing = await listingThroughput(three, 6);
    const threeDownload = await downloadThroughput(three, key, releases.sizeV2);
    log(P, `three instances: ${threeListing.toFixed(0)} listings/s, ${threeDownload.toFixed(1)} MB/s downloads`);

    const notes = `${LATENCY_REPEATS} interleaved warm requests each (200-row page of ${FOLDER_OBJECTS} objects)`;
    return [
      row(P, "listing p50, one instance with Redis", p50Shared, "ms", {
        baseline: { name: "one instance, no Redis", value: p50Plain },
        note: `${notes}; p99 ${percentile(shared, 99).toFixed(2)} vs ${percentile(plain, 99).toFixed(2)} ms`,
      }),
      row(P, "shared-state cost per listing (p50 difference)", p50Shared - p50Plain, "ms", {
        goal: { on: "value", op: "<=", limit: 1 },
        note: "the rate limiter's Redis round trip (rate-limiter-flexible)",
      }),
      row(P, "listing throughput, 3 instances + Redis", threeListing, "req/s", {
        baseline: { name: "1 instance, no Redis", value: oneListing },
        note: `autocannon, 6 connections in all, ${CANNON_SECONDS} s; all processes share this machine's cores`,
      }),
      row(P, "download throughput, 3 instances + Redis", threeDownload, "MB/s", {
        baseline: { name: "1 instance, no Redis", value: oneDownload },
        note: `${DOWNLOADS} reconstructed downloads of ${(releases.sizeV2 / MB).toFixed(1)} MB, ${DOWNLOAD_CONCURRENCY} at a time, round-robin`,
      }),
    ];
  },
};
