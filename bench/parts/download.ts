import { join } from "node:path";
import { prepareDownload, upload } from "../lib/api.js";
import { log, MB, onPath, type Resources, runTimed, SCALE } from "../lib/env.js";
import { startGlider } from "../lib/glider.js";
import { httpGet } from "../lib/http.js";
import { diffCalls, formatCalls, storageCalls } from "../lib/metrics.js";
import type { Part } from "../lib/part.js";
import { setUpReleases } from "../lib/release-setup.js";
import { row } from "../lib/report.js";
import { cpuMeter, formatCpu } from "../lib/rss.js";
import { downloadToFile, getTimed, putFile, s3rverPid } from "../lib/s3.js";
import { median } from "../lib/stats.js";

const BUCKET = "bench-download";
const RUNS = SCALE >= 0.5 ? 9 : 3;

/**
 * `GET /api/download/{token}` of a 100 MB logical object stored as a delta (reference warm), against a plain SDK GET
 * of the same bytes stored direct, and against `xdelta3 -d` file → file. Runs alternate Glider / plain GET.
 */
export const download: Part = {
  name: "download",
  describe: "MB/s and TTFB of a token download of a 100 MB delta vs a plain S3 GET and xdelta3 -d",
  async run(resources: Resources) {
    const P = "download";
    const { size, tmp, releases, s3, client } = await setUpReleases(resources, P, [BUCKET]);
    const glider = resources.add(await startGlider({ s3, profileName: P }), (g) => g.stop(), "glider");

    log(P, `uploading two ${size.toLocaleString("en-US")}-byte versions through Glider`);
    const first = await upload(glider, BUCKET, "releases/app-1.0.zip", releases.v1);
    const second = await upload(glider, BUCKET, "releases/app-1.1.zip", releases.v2);
    if (first.answer.stored_as !== "reference" || second.answer.stored_as !== "delta") {
      throw new Error(`expected reference + delta, got ${first.answer.stored_as} + ${second.answer.stored_as}`);
    }
    await putFile(client, BUCKET, "plain/app-1.1.zip", releases.v2);

    // Warm-up (and correctness): the reference lands in Glider's cache, the bytes must be the upload's.
    const warm = await httpGet(await prepareDownload(glider, BUCKET, "releases/app-1.1.zip"), { hash: true });
    if (warm.status !== 200 || warm.sha256 !== releases.sha256v2) {
      throw new Error(`warm-up download: status ${warm.status}, sha256 ${warm.sha256} (want ${releases.sha256v2})`);
    }
    await getTimed(client, BUCKET, "plain/app-1.1.zip");

    // One more, alone, for the storage calls a download makes before its first byte.
    const callsBefore = await storageCalls(glider);
    await httpGet(await prepareDownload(glider, BUCKET, "releases/app-1.1.zip"));
    const calls = diffCalls(callsBefore, await storageCalls(glider));

    const ours: { ttfb: number; mbps: number }[] = [];
    const plain: { ttfb: number; mbps: number }[] = [];
    // The server's main thread apart: it decodes and sends, while the sha256 runs on a worker thread (#18).
    const pids = {
      glider: glider.pid,
      "glider main thread": glider.pid === undefined ? undefined : { pid: glider.pid, thread: glider.pid },
      s3rver: s3rverPid(s3),
      bench: process.pid,
    };
    const cpuOurs: Record<string, number>[] = [];
    const cpuPlain: Record<string, number>[] = [];
    for (let run = 0; run < RUNS; run++) {
      const url = await prepareDownload(glider, BUCKET, "releases/app-1.1.zip");
      let meter = cpuMeter(pids);
      const got = await httpGet(url);
      cpuOurs.push(meter.stop());
      if (got.status !== 200 || got.bytes !== warm.bytes) throw new Error(`download: ${got.status}, ${got.bytes} B`);
      ours.push({ ttfb: got.ttfbMs, mbps: got.bytes / MB / (got.totalMs / 1000) });
      meter = cpuMeter(pids);
      const base = await getTimed(client, BUCKET, "plain/app-1.1.zip");
      cpuPlain.push(meter.stop());
      plain.push({ ttfb: base.ttfbMs, mbps: base.bytes / MB / (base.totalMs / 1000) });
      log(
        P,
        `run ${run + 1}/${RUNS}: glider ${ours[run].mbps.toFixed(0)} MB/s, plain GET ${plain[run].mbps.toFixed(0)} MB/s`,
      );
    }
    const mbps = median(ours.map((r) => r.mbps));
    const ttfb = median(ours.map((r) => r.ttfb));
    const plainMbps = median(plain.map((r) => r.mbps));
    const plainTtfb = median(plain.map((r) => r.ttfb));
    const deltaBytes = second.answer.stored_bytes;
    const cpu = (runs: Record<string, number>[]) =>
      formatCpu(Object.fromEntries(Object.keys(pids).map((k) => [k, median(runs.map((r) => r[k]))])));
    const note =
      `median of ${RUNS}; ${(warm.bytes / MB).toFixed(1)} MB logical from a ${deltaBytes.toLocaleString("en-US")}-byte ` +
      `delta; per download: ${cpu(cpuOurs)}; per plain GET: ${cpu(cpuPlain)}`;

    const rows = [
      row(P, "GET /api/download/{token}", mbps, "MB/s", {
        baseline: { name: "plain S3 GET", value: plainMbps },
        goal: { on: "ratio", op: ">=", limit: 0.9 },
        note,
      }),
    ];
    if (onPath("xdelta3")) {
      // xdelta3 decodes the very delta Glider stored (it is xdelta3-compatible VCDIFF), reference and output on disk.
      const delta = join(tmp.path, "stored.delta");
      await downloadToFile(client, BUCKET, "releases/app-1.1.zip.delta", delta);
      const out = join(tmp.path, "decoded.bin");
      const times = Array.from({ length: RUNS }, () =>
        runTimed("xdelta3", ["-d", "-f", "-s", releases.v1, delta, out]),
      );
      rows.push(
        row(P, "GET /api/download/{token}", mbps, "MB/s", {
          baseline: { name: "xdelta3 -d file→file", value: warm.bytes / MB / (median(times) / 1000) },
          note: "informational: xdelta3 reads the delta from local disk, Glider from S3 over HTTP",
        }),
      );
    } else {
      log(P, "xdelta3 not on PATH: no xdelta3 -d baseline");
    }
    rows.push(
      row(P, "TTFB of GET /api/download/{token}", ttfb, "ms", {
        baseline: { name: "plain S3 GET", value: plainTtfb },
        goal: { on: "value", op: "<=", limit: 50 },
        note: `median of ${RUNS}; storage calls of one download (prepare + GET): ${formatCalls(calls)}`,
      }),
    );
    return rows;
  },
};
