import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  admin,
  bearer,
  buildSendApp,
  type Clock,
  completeUpload,
  createTransfer,
  injectJson,
  issueToken,
  readyTransfer,
  sha256,
  systemKeys,
  uploadBytes,
} from "./helpers.js";

describe("Send transfers on the byte path (memory store)", () => {
  let app: FastifyInstance;
  let clock: Clock;
  let secret: string;

  beforeEach(async () => {
    ({ app, clock } = await buildSendApp());
    ({ secret } = await issueToken(app));
  });
  afterEach(() => app.close());

  it("runs create → upload → complete → status → download → exhausted, auto-deleting the payload", async () => {
    const payload = randomBytes(200_000);
    const created = await createTransfer(app, secret, {
      size: payload.length,
      content_type: "application/x-encrypted",
      max_downloads: 1,
    });
    expect(created.status).toBe(201);
    const id = created.body.transfer.transfer_id;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(created.body.transfer).toMatchObject({
      status: "pending",
      mode: "bytes",
      size: payload.length,
      content_type: "application/x-encrypted",
      max_downloads: 1,
      downloads: 0,
      downloads_remaining: 1,
      deletable: false,
      created_at: new Date(clock.now).toISOString(),
      expires_at: new Date(clock.now + 7 * 86_400_000).toISOString(),
    });
    expect(created.body.upload).toEqual({
      mode: "bytes",
      method: "POST",
      url: `/api/transfers/id/${id}/payload/upload-bytes`,
      headers: { "content-type": "application/octet-stream" },
      expires_at: null,
    });

    // Not downloadable before completion.
    const early = await app.inject({ method: "GET", url: `/api/transfers/id/${id}/payload/download-bytes` });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe("invalid_state");

    const uploaded = await uploadBytes(app, secret, id, payload);
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({ received_bytes: payload.length, transfer: { status: "uploaded" } });

    const completed = await completeUpload(app, secret, id);
    expect(completed.status).toBe(200);
    expect(completed.body.transfer).toMatchObject({ status: "completed", mode: "bytes" });
    expect(completed.body.transfer.completed_at).toBe(new Date(clock.now).toISOString());

    const status = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` });
    expect(status.body.transfer).toMatchObject({ status: "completed", downloads: 0, downloads_remaining: 1 });

    // The byte store has no presigned URLs.
    const presign = await injectJson(app, {
      method: "POST",
      url: `/api/transfers/id/${id}/download/create-presign-url`,
    });
    expect(presign.status).toBe(422);
    expect(presign.body.error.code).toBe("unsupported");

    const download = await app.inject({ method: "GET", url: `/api/transfers/id/${id}/payload/download-bytes` });
    expect(download.statusCode).toBe(200);
    expect(download.headers["content-type"]).toBe("application/octet-stream");
    expect(Number(download.headers["content-length"])).toBe(payload.length);
    expect(download.rawPayload.equals(payload)).toBe(true);

    // The one allowed download is spent: every route now says so, and the bytes are gone from storage.
    const after = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` });
    expect(after.status).toBe(410);
    expect(after.body.error).toMatchObject({ code: "transfer_exhausted", details: { downloads: 1, max_downloads: 1 } });
    const again = await app.inject({ method: "GET", url: `/api/transfers/id/${id}/payload/download-bytes` });
    expect(again.statusCode).toBe(410);
    expect(again.json().error.code).toBe("transfer_exhausted");
    const keys = await systemKeys(app.services.store);
    expect(keys).toContain(`transfers/${id}/record.json`);
    expect(keys).not.toContain(`transfers/${id}/payload`);

    // The trail: actions (public view hides the token), events, and the admin's merged stream.
    const actions = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/actions/list` });
    expect(actions.status).toBe(200);
    const names = actions.body.actions.map((a: { action: string }) => a.action);
    expect(names).toEqual(
      expect.arrayContaining([
        "transfer.created",
        "payload.uploaded",
        "upload.completed",
        "download.started",
        "download.completed",
        "payload.deleted",
      ]),
    );
    expect(actions.body.actions.every((a: { token_id: unknown }) => a.token_id === null)).toBe(true);

    const trail = await injectJson(app, {
      method: "GET",
      url: `/api/admin/audit/transfers/id/${id}/all`,
      headers: admin,
    });
    expect(trail.status).toBe(200);
    const records = trail.body.records as Array<{ kind: string; at: string; route?: string; status?: number }>;
    const requests = records.filter((r) => r.kind === "request");
    // Every request to a transfer route so far, create included, each with route and status.
    expect(requests.map((r) => `${r.route} ${r.status}`)).toEqual([
      "/api/transfers/create 201",
      "/api/transfers/id/:id/payload/download-bytes 409",
      "/api/transfers/id/:id/payload/upload-bytes 200",
      "/api/transfers/id/:id/upload/complete 200",
      "/api/transfers/id/:id/status 200",
      "/api/transfers/id/:id/download/create-presign-url 422",
      "/api/transfers/id/:id/payload/download-bytes 200",
      "/api/transfers/id/:id/status 410",
      "/api/transfers/id/:id/payload/download-bytes 410",
      "/api/transfers/id/:id/actions/list 200",
    ]);
    const times = records.map((r) => Date.parse(r.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(records.some((r) => r.kind === "action")).toBe(true);
    const adminActions = records.filter((r) => r.kind === "action") as unknown as Array<{ token_id: string | null }>;
    expect(adminActions.some((a) => a.token_id !== null)).toBe(true);
  });

  it("records client events and lists them per transfer", async () => {
    const id = await readyTransfer(app, secret, randomBytes(10), { max_downloads: 0 });
    const add = await injectJson(app, {
      method: "POST",
      url: `/api/transfers/id/${id}/events/add`,
      payload: { type: "download.decrypted", data: { ok: true, ms: 12 } },
    });
    expect(add.status).toBe(201);
    expect(add.body.event).toMatchObject({ transfer_id: id, type: "download.decrypted", data: { ok: true, ms: 12 } });
    await injectJson(app, {
      method: "POST",
      url: `/api/transfers/id/${id}/events/add`,
      payload: { type: "page.view" },
    });
    const list = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/events/list` });
    expect(list.body.events.map((e: { type: string }) => e.type)).toEqual(["download.decrypted", "page.view"]);

    const bad = await injectJson(app, {
      method: "POST",
      url: `/api/transfers/id/${id}/events/add`,
      payload: { type: "x", data: { blob: "a".repeat(5000) } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");

    // Records live in storage, not only in memory.
    const keys = await systemKeys(app.services.store);
    expect(keys.filter((k) => k.startsWith(`audit/${id}/events/`))).toHaveLength(2);
    expect(keys.some((k) => k.startsWith(`audit/${id}/requests/`))).toBe(true);
    expect(keys.some((k) => k.startsWith(`audit/${id}/actions/`))).toBe(true);
  });

  it("creates the system bucket when the server starts, before any Send request", async () => {
    const fresh = await buildSendApp();
    await fresh.app.ready();
    expect(await fresh.app.services.store.bucketExists("glider-system")).toBe(true);
    await fresh.app.close();
  });

  it("answers a malformed id with 400 and an unknown one with 404, writing no audit folder for guesses", async () => {
    const bad = await injectJson(app, { method: "GET", url: "/api/transfers/id/not-an-id/status" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    const unknown = "A".repeat(22);
    for (const url of [
      `/api/transfers/id/${unknown}/status`,
      `/api/transfers/id/${unknown}/payload/download-bytes`,
      `/api/transfers/id/${unknown}/events/list`,
      `/api/transfers/id/${unknown}/actions/list`,
    ]) {
      const res = await injectJson(app, { method: "GET", url });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("transfer_not_found");
    }
    expect((await systemKeys(app.services.store)).some((k) => k.includes(unknown))).toBe(false);
  });

  it("counts unlimited downloads and keeps the payload", async () => {
    const payload = randomBytes(1000);
    const id = await readyTransfer(app, secret, payload, { max_downloads: 0 });
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: "GET", url: `/api/transfers/id/${id}/payload/download-bytes` });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(payload)).toBe(true);
    }
    const status = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` });
    expect(status.body.transfer).toMatchObject({
      status: "completed",
      downloads: 3,
      downloads_remaining: null,
      max_downloads: 0,
    });
  });

  it("allows exactly max_downloads byte downloads, then deletes the bytes", async () => {
    const payload = randomBytes(5000);
    const id = await readyTransfer(app, secret, payload, { max_downloads: 3 });
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: "GET", url: `/api/transfers/id/${id}/payload/download-bytes` });
      expect(res.statusCode).toBe(200);
    }
    const fourth = await app.inject({ method: "GET", url: `/api/transfers/id/${id}/payload/download-bytes` });
    expect(fourth.statusCode).toBe(410);
    expect(await systemKeys(app.services.store)).not.toContain(`transfers/${id}/payload`);
  });

  it("has no HEAD twin for the byte download, so a HEAD cannot spend a download", async () => {
    const id = await readyTransfer(app, secret, randomBytes(100));
    const head = await app.inject({ method: "HEAD", url: `/api/transfers/id/${id}/payload/download-bytes` });
    expect(head.statusCode).toBe(404);
    const status = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` });
    expect(status.body.transfer.downloads).toBe(0);
  });

  it("enforces expiry on status, download, upload and complete (clock moved, no sleeping)", async () => {
    const payload = randomBytes(100);
    const done = await readyTransfer(app, secret, payload, { expires_in_seconds: 60 });
    const pending = (await createTransfer(app, secret, { size: 100, expires_in_seconds: 60 })).body.transfer
      .transfer_id;
    clock.advance(59_000);
    expect((await injectJson(app, { method: "GET", url: `/api/transfers/id/${done}/status` })).status).toBe(200);
    clock.advance(1_000);
    for (const res of [
      await app.inject({ method: "GET", url: `/api/transfers/id/${done}/status` }),
      await app.inject({ method: "GET", url: `/api/transfers/id/${done}/payload/download-bytes` }),
      await app.inject({ method: "POST", url: `/api/transfers/id/${done}/download/create-presign-url` }),
      await app.inject({
        method: "POST",
        url: `/api/transfers/id/${pending}/payload/upload-bytes`,
        headers: { ...bearer(secret), "content-type": "application/octet-stream" },
        payload,
      }),
      await app.inject({
        method: "POST",
        url: `/api/transfers/id/${pending}/upload/complete`,
        headers: bearer(secret),
      }),
    ]) {
      // The byte store answers the presign route with `unsupported` before looking at the transfer.
      if (res.statusCode === 422) {
        expect(res.json().error.code).toBe("unsupported");
        continue;
      }
      expect(res.statusCode).toBe(410);
      expect(res.json().error.code).toBe("transfer_expired");
    }
  });

  it("deletes with the secret whose SHA-256 was given at creation, and only with it", async () => {
    const deleteSecret = "correct horse battery staple";
    const payload = randomBytes(300);
    const id = await readyTransfer(app, secret, payload, { delete_auth_hash: sha256(deleteSecret), max_downloads: 5 });
    expect(
      (await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` })).body.transfer.deletable,
    ).toBe(true);

    const wrong = await injectJson(app, {
      method: "POST",
      url: `/api/transfers/id/${id}/delete`,
      payload: { delete_auth: "wrong" },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe("forbidden");
    const missing = await injectJson(app, { method: "POST", url: `/api/transfers/id/${id}/delete`, payload: {} });
    expect(missing.status).toBe(400);

    const ok = await injectJson(app, {
      method: "POST",
      url: `/api/transfers/id/${id}/delete`,
      payload: { delete_auth: deleteSecret },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.transfer.status).toBe("deleted");
    expect(await systemKeys(app.services.store)).not.toContain(`transfers/${id}/payload`);

    for (const res of [
      await app.inject({ method: "GET", url: `/api/transfers/id/${id}/status` }),
      await app.inject({ method: "GET", url: `/api/transfers/id/${id}/payload/download-bytes` }),
      await app.inject({
        method: "POST",
        url: `/api/transfers/id/${id}/delete`,
        payload: { delete_auth: deleteSecret },
      }),
      await app.inject({ method: "POST", url: `/api/transfers/id/${id}/events/add`, payload: { type: "x" } }),
    ]) {
      expect(res.statusCode).toBe(410);
      expect(res.json().error.code).toBe("transfer_deleted");
    }

    // Without a hash at creation, nobody can delete.
    const plain = await readyTransfer(app, secret, payload);
    const refused = await injectJson(app, {
      method: "POST",
      url: `/api/transfers/id/${plain}/delete`,
      payload: { delete_auth: deleteSecret },
    });
    expect(refused.status).toBe(403);
  });

  it("refuses a completion whose stored size differs from the declared one, keeping nothing", async () => {
    const created = await createTransfer(app, secret, { size: 100 });
    const id = created.body.transfer.transfer_id;
    expect((await uploadBytes(app, secret, id, randomBytes(99))).status).toBe(200);
    const res = await completeUpload(app, secret, id);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "size_mismatch", details: { declared: 100, actual: 99 } });
    expect(await systemKeys(app.services.store)).not.toContain(`transfers/${id}/payload`);
    const status = await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` });
    expect(status.body.transfer.status).toBe("pending");
    // A correct upload afterwards completes.
    expect((await uploadBytes(app, secret, id, randomBytes(100))).status).toBe(200);
    expect((await completeUpload(app, secret, id)).status).toBe(200);
  });

  it("guards the sender routes: token required, owner only, declared size within the cap", async () => {
    const noToken = await injectJson(app, { method: "POST", url: "/api/transfers/create", payload: { size: 1 } });
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe("unauthorized");
    const badToken = await injectJson(app, {
      method: "POST",
      url: "/api/transfers/create",
      headers: bearer("gst_nope"),
      payload: { size: 1 },
    });
    expect(badToken.status).toBe(401);

    const tooBig = await createTransfer(app, secret, { size: 100_000_001 });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe("payload_too_large");

    const id = (await createTransfer(app, secret, { size: 10 })).body.transfer.transfer_id;
    const other = await issueToken(app, { label: "someone else" });
    const foreign = await uploadBytes(app, other.secret, id, randomBytes(10));
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("forbidden");
    const anonymous = await app.inject({
      method: "POST",
      url: `/api/transfers/id/${id}/payload/upload-bytes`,
      headers: { "content-type": "application/octet-stream" },
      payload: randomBytes(10),
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it("reports stats to admins", async () => {
    await readyTransfer(app, secret, randomBytes(1000), { max_downloads: 2 });
    await createTransfer(app, secret, { size: 5 });
    const stats = await injectJson(app, { method: "GET", url: "/api/admin/stats/overview", headers: admin });
    expect(stats.status).toBe(200);
    expect(stats.body.transfers).toMatchObject({
      total: 2,
      by_status: { pending: 1, completed: 1, uploaded: 0, exhausted: 0, expired: 0, deleted: 0 },
      bytes_stored: 1000,
      downloads: 0,
    });
    expect(stats.body.tokens).toMatchObject({ total: 1, by_state: { active: 1 } });
  });
});

describe("SEND_SURFACE splits the deployment", () => {
  it("serves only the public routes with public, only the admin routes with admin", async () => {
    const pub = await buildSendApp({ SEND_SURFACE: "public" });
    expect((await pub.app.inject({ method: "GET", url: "/api/admin/tokens/list", headers: admin })).statusCode).toBe(
      404,
    );
    expect((await pub.app.inject({ method: "POST", url: "/api/transfers/create", payload: {} })).statusCode).toBe(401);
    await pub.app.close();

    const adm = await buildSendApp({ SEND_SURFACE: "admin" });
    expect((await adm.app.inject({ method: "GET", url: "/api/admin/tokens/list", headers: admin })).statusCode).toBe(
      200,
    );
    expect((await adm.app.inject({ method: "POST", url: "/api/transfers/create", payload: {} })).statusCode).toBe(404);
    expect((await adm.app.inject({ method: "GET", url: "/api/health" })).statusCode).toBe(200);
    await adm.app.close();
  });
});
