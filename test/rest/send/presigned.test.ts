import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { listen } from "../../helpers/app.js";
import { BACKENDS, type BackendHandle } from "../../helpers/backends.js";
import { ADMIN_KEY, buildSendApp, type SendApp, systemKeys } from "./helpers.js";

/** JSON over real HTTP against the listening app. */
async function call(base: string, method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { "x-admin-key": ADMIN_KEY };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

// Real presigned PUT and GET URLs against both S3 servers: s3rver and Ceph RGW.
describe.each(BACKENDS.filter((b) => b.name === "s3" || b.name === "rgw"))(
  "Send in presigned mode ($name)",
  (backend) => {
    let handle: BackendHandle;
    let store: ObjectStore;
    let send: SendApp;
    let base: string;
    let token: string;

    beforeAll(async () => {
      handle = await backend.create();
      store = handle.store;
      send = await buildSendApp({}, { store });
      base = await listen(send.app);
      token = (await call(base, "POST", "/api/admin/tokens/create", { body: { label: "s3" } })).body.secret;
    });
    afterAll(async () => {
      await send?.app.close();
      await handle?.cleanup();
    });

    async function createAndPut(payload: Buffer, options: Record<string, unknown> = {}) {
      const created = await call(base, "POST", "/api/transfers/create", {
        token,
        body: { size: payload.length, ...options },
      });
      expect(created.status).toBe(201);
      const { upload, transfer } = created.body;
      const put = await fetch(upload.url, {
        method: upload.method,
        headers: upload.headers,
        body: new Uint8Array(payload),
      });
      expect(put.status).toBe(200);
      return transfer.transfer_id as string;
    }

    it("runs the whole lifecycle through presigned PUT and GET URLs", async () => {
      const payload = randomBytes(300_000);
      const created = await call(base, "POST", "/api/transfers/create", {
        token,
        body: { size: payload.length, max_downloads: 1, expires_in_seconds: 3600 },
      });
      expect(created.status).toBe(201);
      const id = created.body.transfer.transfer_id;
      expect(created.body.transfer).toMatchObject({ status: "pending", mode: "presigned" });
      const upload = created.body.upload;
      expect(upload).toMatchObject({
        mode: "presigned",
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
      });
      expect(new URL(upload.url).searchParams.get("X-Amz-Expires")).toBe("300");

      // The client PUTs the ciphertext straight to storage.
      const put = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: payload });
      expect(put.status).toBe(200);

      const completed = await call(base, "POST", `/api/transfers/id/${id}/upload/complete`, { token });
      expect(completed.status).toBe(200);
      expect(completed.body.transfer).toMatchObject({ status: "completed", mode: "presigned" });
      const status = await call(base, "GET", `/api/transfers/id/${id}/status`);
      expect(status.body.transfer).toMatchObject({ status: "completed", mode: "presigned", downloads: 0 });

      const presigned = await call(base, "POST", `/api/transfers/id/${id}/download/create-presign-url`);
      expect(presigned.status).toBe(200);
      const url = new URL(presigned.body.download.url);
      expect(Number(url.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(60);
      // It counts when issued.
      expect(presigned.body.transfer).toMatchObject({ status: "exhausted", downloads: 1, downloads_remaining: 0 });
      const got = await fetch(url);
      expect(got.status).toBe(200);
      expect(Buffer.from(await got.arrayBuffer()).equals(payload)).toBe(true);

      const second = await call(base, "POST", `/api/transfers/id/${id}/download/create-presign-url`);
      expect(second.status).toBe(410);
      expect(second.body.error.code).toBe("transfer_exhausted");
      const bytes = await fetch(`${base}/api/transfers/id/${id}/payload/download-bytes`);
      expect(bytes.status).toBe(410);

      // The issued URL may still be in use: the payload stays until it expires, then the sweeper removes it.
      expect(await systemKeys(store)).toContain(`transfers/${id}/payload`);
      await send.app.services.transfers.sweep();
      expect(await systemKeys(store)).toContain(`transfers/${id}/payload`);
      send.clock.advance(61_000);
      const report = await send.app.services.transfers.sweep();
      expect(report.payloadsDeleted).toBeGreaterThanOrEqual(1);
      expect(await systemKeys(store)).not.toContain(`transfers/${id}/payload`);
      expect((await fetch(url)).status).toBe(404);
    });

    it("caps URL lifetimes at the transfer's expiry", async () => {
      const created = await call(base, "POST", "/api/transfers/create", {
        token,
        body: { size: 10, expires_in_seconds: 30 },
      });
      expect(new URL(created.body.upload.url).searchParams.get("X-Amz-Expires")).toBe("30");
    });

    it("refuses a completion when the PUT bytes differ from the declared size, deleting them", async () => {
      const created = await call(base, "POST", "/api/transfers/create", { token, body: { size: 1000 } });
      const { upload, transfer } = created.body;
      await fetch(upload.url, { method: "PUT", headers: upload.headers, body: randomBytes(1200) });
      const completed = await call(base, "POST", `/api/transfers/id/${transfer.transfer_id}/upload/complete`, {
        token,
      });
      expect(completed.status).toBe(422);
      expect(completed.body.error).toMatchObject({ code: "size_mismatch", details: { declared: 1000, actual: 1200 } });
      expect(await systemKeys(store)).not.toContain(`transfers/${transfer.transfer_id}/payload`);
      const notYet = await call(base, "POST", `/api/transfers/id/${transfer.transfer_id}/upload/complete`, { token });
      expect(notYet.status).toBe(409);
      expect(notYet.body.error.code).toBe("invalid_state");
    });

    it("still serves the byte routes (upload streamed into S3, download streamed out)", async () => {
      const payload = randomBytes(9 * 1024 * 1024);
      const id = (
        await call(base, "POST", "/api/transfers/create", { token, body: { size: payload.length, max_downloads: 2 } })
      ).body.transfer.transfer_id;
      const up = await fetch(`${base}/api/transfers/id/${id}/payload/upload-bytes`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
        body: payload,
      });
      expect(up.status).toBe(200);
      expect((await call(base, "POST", `/api/transfers/id/${id}/upload/complete`, { token })).status).toBe(200);
      const down = await fetch(`${base}/api/transfers/id/${id}/payload/download-bytes`);
      expect(down.status).toBe(200);
      expect(Buffer.from(await down.arrayBuffer()).equals(payload)).toBe(true);
    });

    it("holds max_downloads = 1 across both paths: 10 presign + 10 byte requests, exactly one succeeds", async () => {
      const payload = randomBytes(50_000);
      const id = await createAndPut(payload, { max_downloads: 1 });
      expect((await call(base, "POST", `/api/transfers/id/${id}/upload/complete`, { token })).status).toBe(200);
      const attempts = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          if (i % 2 === 0) {
            return (await call(base, "POST", `/api/transfers/id/${id}/download/create-presign-url`)).status;
          }
          const res = await fetch(`${base}/api/transfers/id/${id}/payload/download-bytes`);
          await res.arrayBuffer();
          return res.status;
        }),
      );
      expect(attempts.filter((s) => s === 200)).toHaveLength(1);
      expect(attempts.filter((s) => s !== 200).every((s) => s === 409 || s === 410)).toBe(true);
    });
  },
);
