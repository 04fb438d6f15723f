import { prepareDownload, upload } from "../lib/api.js";
import { log, MB, type Resources } from "../lib/env.js";
import { startGlider } from "../lib/glider.js";
import { httpGet } from "../lib/http.js";
import type { Part } from "../lib/part.js";
import { setUpReleases } from "../lib/release-setup.js";
import { row } from "../lib/report.js";
import { readRss, sampleRss } from "../lib/rss.js";
import { copyObject } from "../lib/s3.js";
import { now } from "../lib/stats.js";

const BUCKET = "bench-memory";
const DOWNLOADS = 50;

/**
 * Peak RSS of the Glider process serving 50 concurrent downloads of 100 MB deltas sharing one reference. The 50
 * deltas are copies (CopyObject, metadata kept) of one uploaded delta under 50 keys; a fresh server serves them.
 */
export const memory: Part = {
  name: "memory",
  describe: "peak RSS of Glider with 50 concurrent downloads of 100 MB deltas sharing one reference",
  async run(resources: Resources) {
    const P = "memory";
    const { size, releases, s3, client } = await setUpReleases(resources, P, [BUCKET]);
    const downloads = DOWNLOADS;

    const setup = await startGlider({ s3 });
    try {
      await upload(setup, BUCKET, "releases/app-1.0.zip", releases.v1);
      const second = await upload(setup, BUCKET, "releases/app-1.1.zip", releases.v2);
      if (second.answer.stored_as !== "delta") throw new Error(`stored as ${second.answer.stored_as}`);
    } finally {
      await setup.stop();
    }
    const keys = Array.from({ length: downloads }, (_, i) => `releases/app-1.1-${String(i).padStart(2, "0")}.zip`);
    for (const key of keys) await copyObject(client, BUCKET, "releases/app-1.1.zip.delta", `${key}.delta`);

    // A fresh server per burst: its peak RSS is the downloads', not the uploads' or an earlier burst's.
    const burst = async (n: number) => {
      const glider = await startGlider({ s3, profileName: `${P}-${n}` });
      try {
        const urls = await Promise.all(keys.slice(0, n).map((key) => prepareDownload(glider, BUCKET, key)));
        const idle = readRss(glider.pid).rss;
        log(P, `${n} concurrent downloads of ${(size / MB).toFixed(1)} MB, idle RSS ${(idle / MB).toFixed(0)} MB`);
        const sampler = sampleRss(glider.pid, 10);
        const started = now();
        const results = await Promise.all(urls.map((url) => httpGet(url)));
        const seconds = (now() - started) / 1000;
        const rss = sampler.stop();
        const bad = results.filter((r) => r.status !== 200 || r.bytes !== releases.sizeV2);
        if (bad.length > 0) throw new Error(`${bad.length} downloads failed: ${JSON.stringify(bad[0])}`);
        const peak = Math.max(rss.max, readRss(glider.pid).hwm);
        return { idle, peak, seconds, samples: rss.samples, mbps: (n * releases.sizeV2) / MB / seconds };
      } finally {
        await glider.stop();
      }
    };
    const all = await burst(downloads);
    const ten = await burst(10);
    const one = await burst(1);
    const perDownload = (all.peak - ten.peak) / (downloads - 10);
    return [
      row(P, `peak RSS, ${downloads} concurrent downloads`, all.peak / MB, "MB", {
        goal: { on: "value", op: "<=", limit: 400 },
        note:
          `idle ${(all.idle / MB).toFixed(0)} MB; ${all.mbps.toFixed(0)} MB/s aggregate over ${all.seconds.toFixed(1)} s ` +
          `(${all.samples} samples + VmHWM); fresh servers: 1 download peaks at ${(one.peak / MB).toFixed(0)} MB, ` +
          `10 at ${(ten.peak / MB).toFixed(0)} MB: ${(perDownload / MB).toFixed(1)} MB per extra concurrent download`,
      }),
    ];
  },
};
