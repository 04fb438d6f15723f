import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeNoiseFile } from "../lib/data.js";
import { log, MB, type Resources, scaled, tempDir } from "../lib/env.js";
import { type GliderServer, startGlider } from "../lib/glider.js";
import { expectOk, jsonRequest, postFile } from "../lib/http.js";
import { heap } from "../lib/metrics.js";
import type { Part } from "../lib/part.js";
import { row } from "../lib/report.js";
import { sampleRss } from "../lib/rss.js";

const ADMIN_KEY = "bench-admin-key-0123456789";

/** Creates a transfer of `size` bytes, uploads `path` through the byte route and completes it. */
async function sendOnce(glider: GliderServer, bearer: string, path: string, size: number, onStart?: () => void) {
  const auth = { authorization: `Bearer ${bearer}` };
  const created = await jsonRequest<{ transfer: { transfer_id: string; mode: string } }>(
    "POST",
    `${glider.url}/api/transfers/create`,
    { size, max_downloads: 1 },
    auth,
  );
  const id = created.transfer.transfer_id;
  if (created.transfer.mode !== "bytes") throw new Error(`transfer mode ${created.transfer.mode}, expected bytes`);
  onStart?.();
  const uploaded = await postFile(`${glider.url}/api/transfers/id/${id}/payload/upload-bytes`, path, auth);
  const answer = expectOk(uploaded, "upload-bytes") as { received_bytes?: number };
  if (answer.received_bytes !== size) throw new Error(`received ${answer.received_bytes} of ${size} bytes`);
  await jsonRequest("POST", `${glider.url}/api/transfers/id/${id}/upload/complete`, undefined, auth);
  return uploaded.totalMs;
}

/**
 * RSS growth of the Glider process while a 100 MB Send payload streams in through
 * `POST /api/transfers/id/{id}/payload/upload-bytes` (STORAGE=fs: the bytes mode). A 1 MB transfer goes first so
 * the code paths are loaded and compiled before the measured one.
 */
export const transfer: Part = {
  name: "transfer",
  describe: "RSS growth of Glider while a 100 MB Send payload is uploaded through the byte route (fs store)",
  async run(resources: Resources) {
    const P = "transfer";
    const size = scaled(100 * MB, 256 * 1024);
    const tmp = resources.add(await tempDir(P), (t) => t.cleanup(), "temp folder");
    const payload = join(tmp.path, "payload.bin");
    const warmPayload = join(tmp.path, "warm.bin");
    await writeNoiseFile(payload, size, 21);
    await writeNoiseFile(warmPayload, MB, 22);
    const glider = resources.add(
      await startGlider({
        dataDir: join(tmp.path, "data"),
        env: { SEND_ADMIN_API_KEY: ADMIN_KEY, SEND_MAX_BYTES: String(Math.max(size, MB)) },
        profileName: P,
      }),
      (g) => g.stop(),
      "glider",
    );
    const token = await jsonRequest<{ secret: string }>(
      "POST",
      `${glider.url}/api/admin/tokens/create`,
      { label: "bench" },
      { "x-admin-key": ADMIN_KEY },
    );
    await sendOnce(glider, token.secret, warmPayload, MB);
    await sleep(500);

    const heapBefore = await heap(glider);
    let sampler: ReturnType<typeof sampleRss> | undefined;
    // Glider's own view of its memory while the bytes stream in: V8 heap and external (Buffer) memory.
    let polling = true;
    let externalMax = heapBefore.external;
    let heapMax = heapBefore.total;
    const poller = (async () => {
      while (polling) {
        const h = await heap(glider);
        externalMax = Math.max(externalMax, h.external);
        heapMax = Math.max(heapMax, h.total);
        await sleep(50);
      }
    })();
    const ms = await sendOnce(glider, token.secret, payload, size, () => {
      sampler = sampleRss(glider.pid, 10);
    });
    polling = false;
    await poller;
    const rss = (sampler as ReturnType<typeof sampleRss>).stop();
    const growth = rss.max - rss.start;
    const heapAfter = await heap(glider);
    // The same upload again: what stays once the heap has grown to the upload's working size.
    await sleep(500);
    let again: ReturnType<typeof sampleRss> | undefined;
    await sendOnce(glider, token.secret, payload, size, () => {
      again = sampleRss(glider.pid, 10);
    });
    const rss2 = (again as ReturnType<typeof sampleRss>).stop();
    log(P, `RSS ${(rss.start / MB).toFixed(0)} → peak ${(rss.max / MB).toFixed(0)} MB`);
    return [
      row(P, "RSS growth during a Send byte upload", growth / MB, "MB", {
        goal: { on: "value", op: "<=", limit: 32 },
        note:
          `${(size / MB).toFixed(1)} MB at ${(size / MB / (ms / 1000)).toFixed(0)} MB/s; RSS ${(rss.start / MB).toFixed(0)} MB ` +
          `before, peak ${(rss.max / MB).toFixed(0)} MB (${rss.samples} samples + VmHWM); Glider's /metrics every ` +
          `50 ms: V8 heap ${(heapBefore.total / MB).toFixed(0)} MB, at most ${(heapMax / MB).toFixed(0)} MB, after ` +
          `${(heapAfter.total / MB).toFixed(0)} MB; external (Buffers) ${(heapBefore.external / MB).toFixed(0)} MB, at ` +
          `most ${(externalMax / MB).toFixed(0)} MB; the same upload again: +${((rss2.max - rss2.start) / MB).toFixed(1)} MB`,
      }),
    ];
  },
};
