import { createCatalogue } from "../../src/services/deltaglider/catalogue.js";
import { scanBucket } from "../../src/services/savings/compute.js";
import { createIndexStore } from "../../src/services/savings/index-store.js";
import { createSystemStore } from "../../src/services/send/system-store.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import type { ListObjectsInput, ListObjectsPage, ObjectStore } from "../../src/services/storage/object-store.js";
import { createS3StoreFor } from "../../test/helpers/s3rver.js";
import { objectsUrl } from "../lib/api.js";
import { deltaFolder } from "../lib/data.js";
import { log, type Resources, SCALE, scaled } from "../lib/env.js";
import { type GliderServer, startGlider, startInProcess } from "../lib/glider.js";
import { httpGet } from "../lib/http.js";
import { diffCalls, formatCalls, storageCalls } from "../lib/metrics.js";
import type { Part } from "../lib/part.js";
import { type Row, row } from "../lib/report.js";
import {
  BENCH_S3,
  createBucket,
  headMetadata,
  listFolder,
  type S3Handle,
  s3Client,
  startS3,
  writeRawObjects,
} from "../lib/s3.js";
import { median, now, percentile } from "../lib/stats.js";

const BUCKET = "bench-listing";
const WARMUP_BUCKET = "bench-listing-warmup";
const PREFIX = "releases/";
const WARM_REPEATS = 50;
const SORTS = ["name_asc", "modified_desc"] as const;
/** Where the Glider servers of this part keep savings indexes (SEND_SYSTEM_BUCKET). */
const SYSTEM_BUCKET = "bench-listing-system";
/**
 * The bucket's state for a cold page: no savings index yet (every delta on the page is HEADed), or an index in the
 * system bucket, as after one savings scan of the bucket (or uploads through Glider): deltas' sizes come from it.
 */
const INDEX_STATES = ["no savings index", "savings index present"] as const;

/**
 * The folder size for the s3rver (cold) measurements. s3rver answers every ListObjectsV2 page by walking and
 * stat-ing the whole bucket folder (3 files per object), so a walk costs pages × objects: 100,000 objects take
 * 101 pages of 1–3.5 s each here, far past Glider's 60 s list timeout (RFC-DG-UI-0002). 20,000 keeps a cold
 * listing well inside it; on Ceph RGW (BENCH_S3=rgw), a real S3 server, the cold figures use the brief's 100,000.
 * BENCH_LISTING_COLD_OBJECTS overrides.
 */
const COLD_OBJECTS =
  Number(process.env.BENCH_LISTING_COLD_OBJECTS ?? 0) || scaled(BENCH_S3 === "rgw" ? 100_000 : 20_000, 500);
/** The folder size of the brief, for the warm figures (served from Glider's caches: the store is not involved). */
const WARM_OBJECTS = scaled(100_000, 500);

interface PageResult {
  ms: number;
  status: number;
  error?: string;
}

async function page(url: string): Promise<PageResult> {
  const got = await httpGet(url, { keepBody: true });
  if (got.status !== 200) return { ms: got.totalMs, status: got.status, error: got.body?.slice(0, 200) };
  const body = JSON.parse(got.body ?? "{}") as { objects?: unknown[] };
  if (!Array.isArray(body.objects) || body.objects.length !== 200) {
    throw new Error(`GET ${url}: expected 200 objects, got ${body.objects?.length}`);
  }
  return { ms: got.totalMs, status: 200 };
}

async function warmPage(url: string): Promise<number> {
  const got = await page(url);
  if (got.error) throw new Error(`GET ${url}: ${got.status} ${got.error}`);
  return got.ms;
}

/** Sequential repeats of a warm page: p50 and p99. */
async function warmRepeats(url: string): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < WARM_REPEATS; i++) times.push(await warmPage(url));
  return { p50: median(times), p99: percentile(times, 99) };
}

/** The memory store with Last-Modified dates taken from the generator (it would stamp "now" on every put). */
function withDates(inner: ObjectStore, dates: Map<string, Date>): ObjectStore {
  return {
    ...inner,
    async listObjects(input: ListObjectsInput): Promise<ListObjectsPage> {
      const out = await inner.listObjects(input);
      return {
        ...out,
        objects: out.objects.map((o) => ({ ...o, lastModified: dates.get(o.key) ?? o.lastModified })),
      };
    },
  };
}

async function rawWalk(store: ObjectStore): Promise<number> {
  let pages = 0;
  let token: string | undefined;
  do {
    const out = await store.listObjects({ bucket: BUCKET, prefix: PREFIX, delimiter: "/", continuationToken: token });
    token = out.nextContinuationToken;
    pages++;
  } while (token);
  return pages;
}

/** Cold (a fresh server per sort) on the S3 server (s3rver or RGW) against the SDK's walk of the folder. */
async function onS3rver(resources: Resources, P: string): Promise<Row[]> {
  const s3 = resources.add(await startS3(), (s) => s.stop(), BENCH_S3);
  const client = s3Client(s3);
  await createBucket(client, BUCKET);
  await createBucket(client, WARMUP_BUCKET);
  await writeRawObjects(s3, WARMUP_BUCKET, deltaFolder(PREFIX, 250, 8));
  const started = now();
  await writeRawObjects(s3, BUCKET, deltaFolder(PREFIX, COLD_OBJECTS), 64);
  const generateS = (now() - started) / 1000;
  log(P, `wrote ${COLD_OBJECTS.toLocaleString("en-US")} objects into ${BENCH_S3} in ${generateS.toFixed(1)} s`);
  const meta = await headMetadata(client, BUCKET, `${PREFIX}reference.bin`);
  if (!meta["dg-file-sha256"]) throw new Error(`${BENCH_S3} does not return the generated metadata`);

  // Baseline: page through the folder with the SDK, as Glider has to before it can sort. A walk before and after
  // each cold page (s3rver's speed drifts with the machine's load); the baseline is the mean of the two.
  const walk = async () => {
    const begun = now();
    const walked = await listFolder(client, BUCKET, PREFIX);
    const ms = now() - begun;
    if (walked.objects !== COLD_OBJECTS + 1) throw new Error(`listed ${walked.objects}, wrote ${COLD_OBJECTS + 1}`);
    log(P, `ListObjectsV2 walk: ${walked.pages} pages in ${(ms / 1000).toFixed(1)} s`);
    return { ms, pages: walked.pages };
  };
  let before = await walk();

  const rows: Row[] = [];
  for (const state of INDEX_STATES) {
    if (state === "savings index present") {
      await writeIndex(s3, P);
      before = await walk();
    }
    for (const sort of SORTS) rows.push(await coldPage(sort, state));
  }
  return rows;

  async function coldPage(sort: (typeof SORTS)[number], state: (typeof INDEX_STATES)[number]): Promise<Row> {
    // A fresh server per sort: nothing cached, the first request lists the whole folder.
    const glider: GliderServer = await startGlider({
      s3,
      env: { OBJECTS_RATE_LIMIT: "0", SEND_SYSTEM_BUCKET: SYSTEM_BUCKET },
      profileName: `${P}-${sort}-${state === INDEX_STATES[0] ? "noindex" : "index"}`,
    });
    try {
      // The process warm (code compiled, S3 connections open), the caches empty for the measured folder.
      await warmPage(objectsUrl(glider, WARMUP_BUCKET, PREFIX, 200, sort));
      const url = objectsUrl(glider, BUCKET, PREFIX, 200, sort);
      const callsBefore = await storageCalls(glider);
      const cold = await page(url);
      const calls = diffCalls(callsBefore, await storageCalls(glider));
      log(
        P,
        `${BENCH_S3} ${sort}, ${state}: cold ${(cold.ms / 1000).toFixed(2)} s${cold.error ? ` (${cold.status})` : ""}`,
      );
      // Within the 30 s listing cache TTL: every repeat is served from the cached folder listing.
      const warm = cold.error ? undefined : await warmRepeats(url);
      const after = await walk();
      const figure = `cold first page, sort=${sort}, ${COLD_OBJECTS.toLocaleString("en-US")} objects, ${state}`;
      const r = row(P, figure, cold.ms, "ms", {
        baseline: { name: `ListObjectsV2 walk, ${after.pages} pages`, value: (before.ms + after.ms) / 2 },
        goal: { on: "ratio", op: "<=", limit: 1.1 },
      });
      before = after;
      if (cold.error) {
        r.met = false;
        r.note = `failed with ${cold.status}: ${cold.error}`;
      } else {
        r.note =
          `${BENCH_S3} (objects generated in ${generateS.toFixed(0)} s); fresh server warmed on another bucket; ` +
          `Glider's storage calls: ${formatCalls(calls)}; warm on this folder: p50 ${warm?.p50.toFixed(1)} ms, ` +
          `p99 ${warm?.p99.toFixed(1)} ms`;
      }
      return r;
    } finally {
      await glider.stop();
    }
  }
}

/**
 * The bucket's savings index in the system bucket, as one savings scan leaves it: Glider's scan (the code the
 * savings job runs) over the S3 server, saved where the Glider servers read it.
 */
async function writeIndex(s3: S3Handle, P: string): Promise<void> {
  const store = createS3StoreFor(s3);
  try {
    const started = now();
    const scan = await scanBucket(createCatalogue(store), BUCKET, { headConcurrency: 32 });
    await createIndexStore(createSystemStore(store, SYSTEM_BUCKET)).save(BUCKET, scan.index);
    const s = ((now() - started) / 1000).toFixed(1);
    log(P, `savings scan: ${scan.index.size.toLocaleString("en-US")} index entries, ${scan.heads} HEADs, ${s} s`);
  } finally {
    await store.close();
  }
}

/**
 * The brief's 100,000-object folder, warm. A warm page never reaches the store (listing and HEADs cached), so the
 * folder is loaded into a memory store and Glider runs in-process over it: s3rver cannot list this folder inside
 * Glider's 60 s list timeout. The cold page here is informational: Glider's own cost over a store without latency.
 */
async function inMemory(P: string): Promise<Row[]> {
  const memory = createMemoryStore();
  await memory.createBucket(BUCKET);
  const dates = new Map<string, Date>();
  for (const object of deltaFolder(PREFIX, WARM_OBJECTS)) {
    await memory.putObject({ bucket: BUCKET, key: object.key, body: object.body, metadata: object.metadata });
    if (object.modified) dates.set(object.key, object.modified);
  }
  const store = withDates(memory, dates);
  const started = now();
  const pages = await rawWalk(store);
  const rawMs = now() - started;

  const rows: Row[] = [];
  for (const sort of SORTS) {
    const glider = await startInProcess(store, { OBJECTS_RATE_LIMIT: "0" });
    let cold: number;
    let warm: { p50: number; p99: number };
    try {
      const url = objectsUrl(glider, BUCKET, PREFIX, 200, sort);
      cold = await warmPage(url);
      warm = await warmRepeats(url);
    } finally {
      await glider.stop();
    }
    log(P, `memory ${sort}: cold ${cold.toFixed(0)} ms, warm p50 ${warm.p50.toFixed(1)} ms`);
    rows.push(
      row(P, `warm first page p50, sort=${sort}, ${WARM_OBJECTS.toLocaleString("en-US")} objects`, warm.p50, "ms", {
        goal: { on: "value", op: "<=", limit: 5 },
        note: `${WARM_REPEATS} sequential repeats, p99 ${warm.p99.toFixed(1)} ms; in-process over a memory store (a warm page does not reach the store)`,
      }),
    );
    if (sort === SORTS[0]) {
      rows.push(
        row(
          P,
          `cold first page, sort=${sort}, ${WARM_OBJECTS.toLocaleString("en-US")} objects, memory store`,
          cold,
          "ms",
          {
            baseline: { name: `raw listObjects walk, ${pages} pages`, value: rawMs },
            note: "informational: Glider's own cost of a cold listing over a store without latency",
          },
        ),
      );
    }
  }
  return rows;
}

/**
 * First page (limit 200) of `GET /api/objects` in a bucket folder of DeltaGlider objects: cold against the raw
 * ListObjectsV2 walk on s3rver, and warm (p50 of sequential repeats) at 100,000 objects.
 */
export const listing: Part = {
  name: "listing",
  describe:
    "first page of GET /api/objects: cold vs the raw ListObjectsV2 walk (BENCH_S3), warm p50 at 100,000 objects",
  async run(resources: Resources) {
    const P = "listing";
    if (SCALE === 1 && COLD_OBJECTS < WARM_OBJECTS) {
      log(P, `cold figures on ${COLD_OBJECTS.toLocaleString("en-US")} objects: ${BENCH_S3} lists O(objects) per page`);
    }
    return [...(await onS3rver(resources, P)), ...(await inMemory(P))];
  },
};
