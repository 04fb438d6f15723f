import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { objectsUrl, upload } from "../lib/api.js";
import { deltaFolder } from "../lib/data.js";
import { log, MB, onPath, type Resources, SCALE, scaled } from "../lib/env.js";
import { startGlider } from "../lib/glider.js";
import { httpGet } from "../lib/http.js";
import { formatPauses, type Pauses, pauses } from "../lib/metrics.js";
import type { Part } from "../lib/part.js";
import { setUpReleases } from "../lib/release-setup.js";
import { row } from "../lib/report.js";
import { cpuMeter, formatCpu } from "../lib/rss.js";
import { s3rverPid, writeRawObjects } from "../lib/s3.js";
import { now, percentile } from "../lib/stats.js";

const LIST_BUCKET = "bench-browse";
const UPLOAD_BUCKET = "bench-releases";
const PREFIX = "releases/";
/** Page requests wanted inside encode windows (a p99 needs a few hundred) and the most uploads spent on them. */
const MIN_SAMPLES = 500;
const MAX_UPLOADS = 4;

interface Sample {
  at: number;
  ms: number;
}

/** Requests the page back to back until `until()` says stop; every request's start time and latency. */
async function loop(url: string, until: () => boolean): Promise<Sample[]> {
  const samples: Sample[] = [];
  while (!until()) {
    const at = now();
    const got = await httpGet(url);
    if (got.status !== 200) throw new Error(`GET ${url}: ${got.status}`);
    samples.push({ at, ms: got.totalMs });
  }
  return samples;
}

/**
 * p99 of the objects page (REST, warm, one request at a time) while a 100 MB upload is being delta-encoded,
 * against the same loop on an idle server. The encode window runs from the last request byte sent to the
 * response; the page lives in another bucket so the upload's cache invalidation does not touch it.
 */
export const responsiveness: Part = {
  name: "responsiveness",
  describe: "p99 of the REST objects page while a 100 MB upload is delta-encoded vs idle",
  async run(resources: Resources) {
    const P = "responsiveness";
    const { size, tmp, releases, s3 } = await setUpReleases(resources, P, [LIST_BUCKET, UPLOAD_BUCKET]);
    const idleSeconds = Math.max(1, 10 * SCALE);
    await writeRawObjects(s3, LIST_BUCKET, deltaFolder(PREFIX, scaled(2_000, 400), 9));
    const glider = resources.add(
      await startGlider({ s3, env: { OBJECTS_RATE_LIMIT: "0" }, profileName: P }),
      (g) => g.stop(),
      "glider",
    );
    await upload(glider, UPLOAD_BUCKET, "releases/app-1.0.zip", releases.v1);
    const url = objectsUrl(glider, LIST_BUCKET, PREFIX);
    for (let i = 0; i < 20; i++) await httpGet(url);

    const idleStart = await pauses(glider);
    const idleEnd = now() + idleSeconds * 1000;
    const idle = await loop(url, () => now() > idleEnd);
    const idleStop = await pauses(glider);
    await sleep(200);
    const pids = { glider: glider.pid, s3rver: s3rverPid(s3), bench: process.pid };

    // Uploads of the new version until enough page requests fell inside encode windows (at most MAX_UPLOADS).
    const encoding: number[] = [];
    const whole: number[] = [];
    const windows: { seconds: number; cpu: string; pauses: string }[] = [];
    for (let i = 0; i < MAX_UPLOADS && encoding.length < MIN_SAMPLES; i++) {
      let sentAt = Number.POSITIVE_INFINITY;
      let doneAt = Number.POSITIVE_INFINITY;
      let finished = false;
      let windowStart: Promise<{ pauses: Pauses; cpu: ReturnType<typeof cpuMeter> }> | undefined;
      const uploading = upload(glider, UPLOAD_BUCKET, "releases/app-1.1.zip", releases.v2, () => {
        sentAt = now();
        const cpu = cpuMeter(pids);
        windowStart = pauses(glider).then((p) => ({ pauses: p, cpu }));
      }).finally(() => {
        doneAt = now();
        finished = true;
      });
      const busy = await loop(url, () => finished);
      const { answer } = await uploading;
      if (answer.stored_as !== "delta") throw new Error(`stored as ${answer.stored_as}`);
      const started = await windowStart;
      windows.push({
        seconds: (doneAt - sentAt) / 1000,
        cpu: started ? formatCpu(started.cpu.stop()) : "?",
        pauses: started ? formatPauses(started.pauses, await pauses(glider)) : "?",
      });
      for (const sample of busy) {
        whole.push(sample.ms);
        if (sample.at >= sentAt && sample.at + sample.ms <= doneAt) encoding.push(sample.ms);
      }
    }
    // Control: the same loop while xdelta3 -e -9 encodes the same pair in another process (one core busy, no Glider
    // work): how much of the slowdown the machine alone explains.
    const control: number[] = [];
    if (onPath("xdelta3")) {
      const out = join(tmp.path, "control.delta");
      for (let i = 0; i < MAX_UPLOADS * 2 && control.length < MIN_SAMPLES; i++) {
        let finished = false;
        const child = spawn("xdelta3", ["-e", "-9", "-f", "-s", releases.v1, releases.v2, out], { stdio: "ignore" });
        const exited = once(child, "exit").finally(() => {
          finished = true;
        });
        const samples = await loop(url, () => finished);
        await exited;
        for (const sample of samples) control.push(sample.ms);
      }
    }
    const idleMs = idle.map((s) => s.ms);
    log(P, `idle: ${idleMs.length} requests; ${windows.length} encode windows, ${encoding.length} requests`);
    const first = windows[0];
    const encodeRow = row(P, "objects page p99 while a delta is encoded", percentile(encoding, 99), "ms", {
      baseline: { name: "idle p99", value: percentile(idleMs, 99) },
      goal: { on: "ratio", op: "<=", limit: 2 },
      note:
        `${encoding.length} requests in ${windows.length} encode window(s) of ` +
        `${windows.map((w) => w.seconds.toFixed(1)).join(", ")} s (p50 ${percentile(encoding, 50).toFixed(1)} ms; ` +
        `first window: ${first.cpu}; Glider ${first.pauses}), ${idleMs.length} idle (p50 ` +
        `${percentile(idleMs, 50).toFixed(1)} ms; Glider ${formatPauses(idleStart, idleStop)}); ` +
        `${(size / MB).toFixed(1)} MB uploads`,
    });
    // A smoke run's encode windows can be too short for any request to fit: no figure then, not an error.
    if (encoding.length === 0) encodeRow.note = `no request completed inside an encode window; ${encodeRow.note}`;
    return [
      encodeRow,
      row(P, "objects page p99 during the whole upload", percentile(whole, 99), "ms", {
        baseline: { name: "idle p99", value: percentile(idleMs, 99) },
        note: `${whole.length} requests, body transfer included (the bench client sends the body meanwhile)`,
      }),
      ...(control.length > 0
        ? [
            row(P, "objects page p99 while xdelta3 -e -9 runs beside Glider", percentile(control, 99), "ms", {
              baseline: { name: "idle p99", value: percentile(idleMs, 99) },
              note: `control, ${control.length} requests (p50 ${percentile(control, 50).toFixed(1)} ms): one core busy with an encode outside Glider`,
            }),
          ]
        : []),
    ];
  },
};
