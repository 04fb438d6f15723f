import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { listen } from "../../helpers/app.js";
import {
  buildSendApp,
  completeUpload,
  createTransfer,
  eventually,
  injectJson,
  issueToken,
  readyTransfer,
  type SendApp,
  systemKeys,
  uploadBytes,
} from "./helpers.js";

const MB = 1_000_000;

/** `total` bytes in 1 MB chunks, generated as they are read (the test never holds the body). */
function streamOf(total: number): Readable & { sent(): number } {
  const chunk = Buffer.alloc(MB, 7);
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(MB, total - sent);
      sent += n;
      this.push(n === MB ? chunk : chunk.subarray(0, n));
    },
  });
  return Object.assign(stream, { sent: () => sent });
}

async function filesUnder(dir: string): Promise<Array<{ path: string; size: number }>> {
  const out: Array<{ path: string; size: number }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const size = await stat(path).then(
      (s) => s.size,
      () => 0, // a record renamed into place while we walk
    );
    out.push({ path, size });
  }
  return out;
}

describe("the payload cap, enforced while streaming", () => {
  let dataDir: string;
  let send: SendApp;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "glider-send-cap-"));
    send = await buildSendApp({ STORAGE: "fs", DATA_DIR: dataDir });
  });
  afterAll(async () => {
    await send.app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("ends a streamed 101 MB upload with 413 at byte 100,000,001 and keeps nothing", async () => {
    const { app } = send;
    const { secret } = await issueToken(app);
    const created = await createTransfer(app, secret, { size: 100 * MB });
    expect(created.status).toBe(201);
    const id = created.body.transfer.transfer_id;
    const source = streamOf(101 * MB);
    const res = await app.inject({
      method: "POST",
      url: `/api/transfers/id/${id}/payload/upload-bytes`,
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/octet-stream" },
      payload: source,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: "payload_too_large", details: { max_bytes: 100 * MB } });

    await app.services.audit.flush();
    const keys = await systemKeys(app.services.store);
    expect(keys).not.toContain(`transfers/${id}/payload`);
    // No partial object or temp file anywhere in the data folder either.
    const files = await filesUnder(dataDir);
    expect(files.filter((f) => f.size > 64 * 1024)).toEqual([]);
    const status = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` });
    expect(status.body.transfer.status).toBe("pending");
  });

  it("stops reading an endless body soon after the cap and closes the connection", async () => {
    const { app } = send;
    const { secret } = await issueToken(app);
    const id = (await createTransfer(app, secret, { size: 100 * MB })).body.transfer.transfer_id;
    const source = streamOf(1000 * MB);
    const res = await app.inject({
      method: "POST",
      url: `/api/transfers/id/${id}/payload/upload-bytes`,
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/octet-stream" },
      payload: source,
    });
    expect(res.statusCode).toBe(413);
    // The rest of the body is not drained: the connection is closed instead.
    expect(res.headers.connection).toBe("close");
    expect(source.sent()).toBeLessThan(110 * MB);
    source.destroy();
    expect(await systemKeys(app.services.store)).not.toContain(`transfers/${id}/payload`);
  });

  it("over a real socket, answers 413 and hangs up instead of reading the rest", async () => {
    const small = await buildSendApp({ SEND_MAX_BYTES: String(5 * MB) });
    const base = await listen(small.app);
    const { secret } = await issueToken(small.app);
    const id = (await createTransfer(small.app, secret, { size: 5 * MB })).body.transfer.transfer_id;
    const result = await new Promise<{ status?: number; code?: string; written: number }>((resolve) => {
      let written = 0;
      const chunk = Buffer.alloc(256 * 1024, 1);
      const req = httpRequest(`${base}/api/transfers/id/${id}/payload/upload-bytes`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/octet-stream" },
      });
      req.on("response", (res) => {
        res.resume();
        res.on("close", () => resolve({ status: res.statusCode, written }));
      });
      // A client that keeps writing after the answer may see the reset before it reads the 413.
      req.on("error", (error) => resolve({ code: (error as NodeJS.ErrnoException).code, written }));
      const pump = () => {
        while (written < 500 * MB) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    if (result.status === undefined) expect(["EPIPE", "ECONNRESET"]).toContain(result.code);
    else expect(result.status).toBe(413);
    expect(result.written).toBeLessThan(100 * MB);
    expect(await systemKeys(small.app.services.store)).not.toContain(`transfers/${id}/payload`);
    await small.app.close();
  });

  it("accepts exactly the cap", async () => {
    const small = await buildSendApp({ SEND_MAX_BYTES: "1000" });
    const { secret } = await issueToken(small.app);
    const id = (await createTransfer(small.app, secret, { size: 1000 })).body.transfer.transfer_id;
    const over = await uploadBytes(small.app, secret, id, randomBytes(1001));
    expect(over.status).toBe(413);
    expect(await systemKeys(small.app.services.store)).not.toContain(`transfers/${id}/payload`);
    const exact = await uploadBytes(small.app, secret, id, randomBytes(1000));
    expect(exact.status).toBe(200);
    expect(exact.body.received_bytes).toBe(1000);
    expect((await completeUpload(small.app, secret, id)).status).toBe(200);
    await small.app.close();
  });
});

describe("download limits under concurrency", () => {
  let send: SendApp;
  afterEach(() => send.app.close());

  it("lets exactly one of 20 parallel downloads through when max_downloads = 1", async () => {
    send = await buildSendApp();
    const { app } = send;
    const { secret } = await issueToken(app);
    const payload = randomBytes(300_000);
    const id = await readyTransfer(app, secret, payload, { max_downloads: 1 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        app.inject({ method: "GET", url: `/api/transfers/id/${id}/payload/download-bytes` }),
      ),
    );
    const ok = results.filter((r) => r.statusCode === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0].rawPayload.equals(payload)).toBe(true);
    for (const refused of results.filter((r) => r.statusCode !== 200)) {
      expect([409, 410]).toContain(refused.statusCode);
      expect(["conflict", "transfer_exhausted"]).toContain(refused.json().error.code);
    }
    const status = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` });
    expect(status.body.error.code).toBe("transfer_exhausted");
  });

  it("does not burn the link when a client aborts a byte download mid-body (real HTTP)", async () => {
    send = await buildSendApp();
    const { app } = send;
    const base = await listen(app);
    const { secret } = await issueToken(app);
    const payload = randomBytes(32 * 1024 * 1024);
    const id = await readyTransfer(app, secret, payload, { max_downloads: 1 });

    // Read the first chunk of the body, then hang up.
    const received = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/api/transfers/id/${id}/payload/download-bytes`, (res) => {
        expect(res.statusCode).toBe(200);
        res.once("data", (chunk: Buffer) => {
          req.destroy();
          resolve(chunk.length);
        });
      });
      req.on("error", (error) => {
        if ((error as NodeJS.ErrnoException).code !== "ECONNRESET") reject(error);
      });
      req.end();
    });
    expect(received).toBeLessThan(payload.length);

    // The reservation is released, not committed.
    await eventually(async () => {
      const status = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` });
      expect(status.body.transfer).toMatchObject({ downloads: 0, downloads_in_progress: 0, downloads_remaining: 1 });
    });
    const actions = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/actions/list` });
    expect(actions.body.actions.map((a: { action: string }) => a.action)).toContain("download.cancelled");

    // The link still works once, completely, and then no more.
    const full = await fetch(`${base}/api/transfers/id/${id}/payload/download-bytes`);
    expect(full.status).toBe(200);
    expect(Buffer.from(await full.arrayBuffer()).equals(payload)).toBe(true);
    const after = await fetch(`${base}/api/transfers/id/${id}/payload/download-bytes`);
    expect(after.status).toBe(410);
    expect(await systemKeys(app.services.store)).not.toContain(`transfers/${id}/payload`);
  });
});
