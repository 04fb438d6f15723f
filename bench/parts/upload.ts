import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import encodeTask from "../../src/services/deltaglider/encode-worker.js";
import { upload as uploadFile } from "../lib/api.js";
import { log, MB, onPath, type Resources, runTimed, SCALE } from "../lib/env.js";
import { startGlider } from "../lib/glider.js";
import { diffCalls, formatCalls, type StorageCalls, storageCalls } from "../lib/metrics.js";
import type { Part } from "../lib/part.js";
import { setUpReleases } from "../lib/release-setup.js";
import { row } from "../lib/report.js";
import { putFile } from "../lib/s3.js";
import { median } from "../lib/stats.js";

const BUCKET = "bench-upload";
const RUNS = SCALE >= 0.5 ? 5 : 3;

/**
 * `POST /api/upload` of a 100 MB new version (raw body) whose reference (the previous version) is already stored,
 * against `xdelta3 -e -9 -s ref new out` + a plain S3 PUT of that delta. Runs alternate Glider / baseline.
 */
export const upload: Part = {
  name: "upload",
  describe: "MB/s of POST /api/upload of a 100 MB new version (delta) vs xdelta3 -e -9 + S3 PUT of the delta",
  async run(resources: Resources) {
    const P = "upload";
    const { size, tmp, releases, s3, client } = await setUpReleases(resources, P, [BUCKET]);
    const glider = resources.add(await startGlider({ s3, profileName: P }), (g) => g.stop(), "glider");

    const first = await uploadFile(glider, BUCKET, "releases/app-1.0.zip", releases.v1);
    if (first.answer.stored_as !== "reference") throw new Error(`first upload stored as ${first.answer.stored_as}`);
    const haveXdelta = onPath("xdelta3");
    if (!haveXdelta) log(P, "xdelta3 not on PATH: no baseline");

    const ours: number[] = [];
    const theirs: number[] = [];
    let ourDelta = 0;
    let calls: StorageCalls = new Map();
    const bodyMs: number[] = [];
    const afterBody: number[] = [];
    let theirDelta = 0;
    for (let run = 0; run < RUNS; run++) {
      const callsBefore = await storageCalls(glider);
      const { answer, totalMs, sentMs } = await uploadFile(glider, BUCKET, "releases/app-1.1.zip", releases.v2);
      calls = diffCalls(callsBefore, await storageCalls(glider));
      afterBody.push(totalMs - sentMs);
      bodyMs.push(sentMs);
      if (answer.stored_as !== "delta") throw new Error(`new version stored as ${answer.stored_as}`);
      ourDelta = answer.stored_bytes;
      ours.push(answer.original_bytes / MB / (totalMs / 1000));
      if (haveXdelta) {
        const out = join(tmp.path, "xdelta3.delta");
        const encodeMs = runTimed("xdelta3", ["-e", "-9", "-f", "-s", releases.v1, releases.v2, out]);
        theirDelta = (await stat(out)).size;
        const putMs = await putFile(client, BUCKET, `baseline/app-1.1.zip.delta`, out);
        theirs.push(answer.original_bytes / MB / ((encodeMs + putMs) / 1000));
      }
      log(P, `run ${run + 1}/${RUNS}: glider ${ours[run].toFixed(1)} MB/s, baseline ${theirs[run]?.toFixed(1)} MB/s`);
    }
    // Where Glider's time after the body goes: its encode task (encode, then decode-and-compare to prove the delta),
    // run here in the bench process on the same pair.
    const task = await encodeTask({
      source: new Uint8Array(await readFile(releases.v1)),
      targetPath: releases.v2,
      deltaPath: join(tmp.path, "glider.delta"),
      appHeader: "app-1.1.zip//reference.bin/",
      expectedSize: releases.sizeV2,
    });
    return [
      row(P, "POST /api/upload (new version → delta)", median(ours), "MB/s", {
        baseline: haveXdelta ? { name: "xdelta3 -e -9 + S3 PUT", value: median(theirs) } : undefined,
        goal: { on: "ratio", op: ">=", limit: 1.0 },
        note:
          `median of ${RUNS}; ${(size / MB).toFixed(1)} MB; deltas: Glider ${ourDelta.toLocaleString("en-US")} B, ` +
          `xdelta3 ${theirDelta.toLocaleString("en-US")} B; Glider: body sent in ${median(bodyMs).toFixed(0)} ms, ` +
          `answer ${median(afterBody).toFixed(0)} ms later; storage calls: ${formatCalls(calls)}; the encode task alone: ` +
          `encode ${task.encodeMs.toFixed(0)} ms + verify ${task.verifyMs.toFixed(0)} ms`,
      }),
    ];
  },
};
