/**
 * Incremental savings index benchmark on s3rver: a bucket in the real CLI's layout (DeltaSpaces with reference.bin,
 * `.delta` objects whose original size lives in `dg-file-size`), 3,280 logical objects in 8 DeltaSpaces at scale 1.
 *
 *   npm run bench:savings-index
 *   BENCH_SCALE=0.05 npm run bench:savings-index       smoke run (at least 100 objects)
 *   DELTAGLIDER_SRC=/path/to/deltaglider/src …         also times the real `deltaglider stats --detailed --no-cache`
 *                                                      (python3 with boto3 and click) on the same s3rver bucket
 *
 * Rows, interleaved rounds, best of each:
 *   previous scan  the scan before the index (no index, 16 HEADs in flight): every delta HEADed on every scan
 *   first scan     the savings service on a bucket without an index (SAVINGS_FIRST_SCAN_HEAD_CONCURRENCY in flight),
 *                  writing the index to the system bucket
 *   rescan (1 %)   a fresh service instance (index read from the system bucket) after 1 % of the deltas were
 *                  rewritten by another tool: one LIST walk plus a HEAD per changed delta
 *   deltaglider    the real CLI, `stats --detailed --no-cache` (its own cache is invalid after any change anyway)
 * Every figure is checked against an independent computation (and the CLI's against Glider's).
 */
import { execFile } from "node:child_process";
import { cpus } from "node:os";
import { promisify } from "node:util";
import { pino } from "pino";
import { createCatalogue } from "../src/services/deltaglider/catalogue.js";
import { createMetrics } from "../src/services/metrics.js";
import { type BucketFigures, scanBucket } from "../src/services/savings/compute.js";
import { createIndexStore, indexKey } from "../src/services/savings/index-store.js";
import { createSavingsService, type SavingsProgress } from "../src/services/savings/jobs.js";
import { createSystemStore } from "../src/services/send/system-store.js";
import type { ObjectStore } from "../src/services/storage/object-store.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../test/helpers/s3rver.js";
import {
  expectedSavings,
  type GeneratedObject,
  planSavingsBucket,
  type SavingsFigures,
  writeSavingsBucket,
} from "../test/helpers/savings-bucket.js";

const SCALE = Number(process.env.BENCH_SCALE ?? "1");
const OBJECTS = Math.max(100, Math.round(3_280 * SCALE));
const FIRST_SCAN_CONCURRENCY = Number(process.env.SAVINGS_FIRST_SCAN_HEAD_CONCURRENCY ?? "16");
const HEAD_CONCURRENCY = Number(process.env.SAVINGS_HEAD_CONCURRENCY ?? "16");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "2");
const BUCKET = "savings-index-bench";
const SYSTEM = "glider-system";
const DG_SRC = process.env.DELTAGLIDER_SRC;

const run = promisify(execFile);
const seconds = (ms: number) => (ms / 1000).toFixed(2);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

function same(a: SavingsFigures | BucketFigures, b: SavingsFigures, what: string) {
  if (a.objectCount !== b.objectCount || a.originalBytes !== b.originalBytes || a.storedBytes !== b.storedBytes) {
    throw new Error(`${what}: figures ${JSON.stringify(a)} differ from the independent ${JSON.stringify(b)}`);
  }
}

/** One job through a fresh savings service (nothing in memory): start → DONE. */
async function serviceScan(store: ObjectStore): Promise<SavingsProgress> {
  const service = createSavingsService(
    {
      catalogue: createCatalogue(store),
      store,
      metrics: createMetrics(),
      logger: pino({ level: "silent" }),
      index: createIndexStore(createSystemStore(store, SYSTEM)),
    },
    { headConcurrency: HEAD_CONCURRENCY, firstScanHeadConcurrency: FIRST_SCAN_CONCURRENCY, hiddenBuckets: [SYSTEM] },
  );
  try {
    await service.start(BUCKET);
    let last: SavingsProgress | undefined;
    for await (const event of service.watch(BUCKET)) last = event;
    if (last?.state !== "DONE") throw new Error(`scan ended ${JSON.stringify(last)}`);
    return last;
  } finally {
    await service.close();
  }
}

/** The real CLI against the same s3rver; its figures, or undefined when DELTAGLIDER_SRC is not set. */
async function cliScan(s3: S3rverHandle): Promise<SavingsFigures | undefined> {
  if (!DG_SRC) return undefined;
  const { stdout } = await run(
    "python3",
    ["-c", "from deltaglider.app.cli.main import main; main()", "stats", BUCKET, "--detailed", "--no-cache", "--json"],
    {
      cwd: "/tmp",
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        PYTHONPATH: DG_SRC,
        AWS_ENDPOINT_URL: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        AWS_DEFAULT_REGION: s3.region,
      },
    },
  );
  const out = JSON.parse(stdout.slice(stdout.indexOf("{")));
  return {
    objectCount: out.object_count,
    originalBytes: out.total_size,
    storedBytes: out.compressed_size,
    savingsPct: out.space_saved_pct ?? out.average_compression_ratio,
  };
}

async function main() {
  const s3 = await startS3rver();
  const store = createS3StoreFor(s3);
  try {
    // The real CLI's layout only: without the generator's synthetic edge cases (a housekeeping object, a plain twin
    // hiding a delta, a delta without dg-file-size), which the CLI never writes and counts differently (format §5.3).
    let plan = planSavingsBucket(OBJECTS + 3).filter(
      (o) =>
        !o.key.startsWith(".deltaglider/") &&
        o.key !== "apps/app-0/twin.zip" &&
        (!o.key.endsWith(".delta") || o.metadata["dg-file-size"] !== undefined),
    );
    const deltas = plan.filter((o) => o.key.endsWith(".delta") && o.metadata["dg-file-size"] !== undefined);
    console.log(
      `savings index bench: ${plan.length.toLocaleString("en-US")} physical objects (${deltas.length.toLocaleString("en-US")} deltas), ` +
        `s3rver, ${cpus().length} cores, first-scan HEAD concurrency ${FIRST_SCAN_CONCURRENCY}, rescan ${HEAD_CONCURRENCY}` +
        (DG_SRC ? ", real deltaglider CLI" : ", no real CLI (DELTAGLIDER_SRC unset)"),
    );
    await writeSavingsBucket(store, BUCKET, plan, 32);
    await store.createBucket(SYSTEM);
    let truth = await expectedSavings(store, BUCKET, plan);

    // The floor of any scan: the LIST walk alone.
    const listOnly = async () => {
      let continuationToken: string | undefined;
      do {
        const page = await store.listObjects({ bucket: BUCKET, continuationToken });
        continuationToken = page.nextContinuationToken;
      } while (continuationToken);
    };
    const list = (await timed(listOnly)).ms;
    const previous: number[] = [];
    const first: number[] = [];
    const rescan: number[] = [];
    const cli: number[] = [];
    let cliFigures: SavingsFigures | undefined;
    let changedCount = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Previous scan and first scan, alternating which goes first.
      const runPrevious = async () => {
        const t = await timed(() => scanBucket(createCatalogue(store), BUCKET, { headConcurrency: 16 }));
        same(t.value, truth, "previous scan");
        previous.push(t.ms);
      };
      const runFirst = async () => {
        await store.deleteObject(SYSTEM, indexKey(BUCKET)).catch(() => undefined);
        const t = await timed(() => serviceScan(store));
        same(t.value, truth, "first scan");
        first.push(t.ms);
      };
      if (round % 2 === 0) {
        await runPrevious();
        await runFirst();
      } else {
        await runFirst();
        await runPrevious();
      }

      // Another tool rewrites 1 % of the deltas (new bodies and original sizes); the index is the first scan's.
      const count = Math.max(1, Math.round(deltas.length / 100));
      const changed: GeneratedObject[] = deltas.slice(round * count, (round + 1) * count).map((o) => ({
        key: o.key,
        size: o.size + 1 + round,
        metadata: { ...o.metadata, "dg-file-size": String(Number(o.metadata["dg-file-size"]) + 1_000 + round) },
      }));
      changedCount = changed.length;
      await writeSavingsBucket(store, BUCKET, changed, 32);
      const byKey = new Map(plan.map((o) => [o.key, o]));
      for (const o of changed) byKey.set(o.key, o);
      plan = [...byKey.values()];
      truth = await expectedSavings(store, BUCKET, plan);
      const t = await timed(() => serviceScan(store));
      same(t.value, truth, "rescan");
      rescan.push(t.ms);

      if (DG_SRC) {
        const c = await timed(() => cliScan(s3));
        cliFigures = c.value;
        cli.push(c.ms);
      }
    }

    const best = (xs: number[]) => Math.min(...xs);
    const anchor = cli.length ? best(cli) : best(previous);
    const anchorName = cli.length ? "deltaglider stats --detailed" : "previous scan";
    console.log("");
    console.log(`| run (best of ${ROUNDS}) | seconds | ${anchorName} ÷ run |`);
    console.log("|---|---:|---:|");
    if (cli.length)
      console.log(`| deltaglider stats --detailed --no-cache (real CLI) | ${seconds(best(cli))} | 1.00 |`);
    console.log(
      `| ListObjectsV2 walk alone (the floor of any scan) | ${seconds(list)} | ${(anchor / list).toFixed(2)} |`,
    );
    console.log(
      `| previous scan (no index, 16 HEADs in flight) | ${seconds(best(previous))} | ${(anchor / best(previous)).toFixed(2)} |`,
    );
    console.log(
      `| first scan (no index yet, ${FIRST_SCAN_CONCURRENCY} HEADs in flight, index written) | ${seconds(best(first))} | ${(anchor / best(first)).toFixed(2)} |`,
    );
    console.log(
      `| rescan after ${changedCount} deltas (1 %) changed out of band (fresh instance, index from the system bucket) | ${seconds(best(rescan))} | ${(anchor / best(rescan)).toFixed(2)} |`,
    );
    console.log("");
    console.log(
      `  figures: ${truth.objectCount} objects, ${truth.originalBytes} original, ${truth.storedBytes} stored, ${truth.savingsPct} % (checked against an independent computation)`,
    );
    if (cliFigures) {
      const agree =
        cliFigures.objectCount === truth.objectCount &&
        cliFigures.originalBytes === truth.originalBytes &&
        cliFigures.storedBytes === truth.storedBytes;
      console.log(
        `  real CLI figures: ${JSON.stringify(cliFigures)} — ${agree ? "identical" : "DIFFERENT"} to Glider's`,
      );
    }
  } finally {
    await store.close();
    await s3.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
