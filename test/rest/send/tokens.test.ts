import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readAll } from "../../../src/services/storage/body.js";
import { buildTestApp } from "../../helpers/app.js";
import {
  ADMIN_KEY,
  admin,
  buildSendApp,
  type Clock,
  createTransfer,
  injectJson,
  issueToken,
  readyTransfer,
  systemKeys,
  uploadBytes,
} from "./helpers.js";

/** Every admin route in fastify's route table (so a newly added one cannot escape the auth test). */
function adminRoutesOf(app: FastifyInstance): Array<{ method: string; url: string }> {
  const routes: Array<{ method: string; url: string }> = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const match = /(\/\S+) \(([A-Z, ]+)\)/.exec(line);
    if (!match?.[1].startsWith("/api/admin")) continue;
    for (const method of match[2].split(", ")) {
      routes.push({ method, url: match[1].replace(/:id/g, "A".repeat(22)) });
    }
  }
  return routes;
}

describe("admin API authentication", () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    ({ app } = await buildSendApp());
    await app.ready();
  });
  afterEach(() => app.close());

  it("refuses every admin route without the key, with a wrong key, and with a wrong cookie", async () => {
    const routes = adminRoutesOf(app);
    expect(routes.map((r) => `${r.method} ${r.url.replace(/A{22}/, ":id")}`)).toEqual(
      expect.arrayContaining([
        "POST /api/admin/tokens/create",
        "GET /api/admin/tokens/list",
        "POST /api/admin/tokens/id/:id/revoke",
        "GET /api/admin/stats/overview",
        "GET /api/admin/audit/transfers/id/:id/all",
      ]),
    );
    for (const route of routes) {
      const method = route.method as "GET" | "POST" | "HEAD";
      const payload = method === "POST" ? { label: "x" } : undefined;
      for (const headers of [
        {},
        { "x-admin-key": "wrong-key-wrong-key-wrong" },
        { "x-admin-key": "" },
        { cookie: "glider_admin_key=wrong-key-wrong-key" },
        { authorization: `Bearer ${ADMIN_KEY}` },
      ]) {
        const res = await app.inject({ method, url: route.url, headers, payload });
        expect(res.statusCode, `${method} ${route.url} with ${JSON.stringify(headers)}`).toBe(401);
      }
    }
  });

  it("accepts the key as a header or as a cookie", async () => {
    expect((await app.inject({ method: "GET", url: "/api/admin/tokens/list", headers: admin })).statusCode).toBe(200);
    const viaCookie = await app.inject({
      method: "GET",
      url: "/api/admin/tokens/list",
      headers: { cookie: `theme=dark; glider_admin_key=${encodeURIComponent(ADMIN_KEY)}` },
    });
    expect(viaCookie.statusCode).toBe(200);
  });

  it("turns the admin API off when no key is configured", async () => {
    const noKey = await buildTestApp({ SEND_SWEEP_INTERVAL_MS: "0" });
    const res = await noKey.inject({ method: "GET", url: "/api/admin/tokens/list", headers: admin });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe("forbidden");
    await noKey.close();
  });
});

describe("sender token lifecycle and quotas", () => {
  let app: FastifyInstance;
  let clock: Clock;
  beforeEach(async () => {
    ({ app, clock } = await buildSendApp());
  });
  afterEach(() => app.close());

  it("creates (secret shown once, only its hash stored), lists, counts use and revokes", async () => {
    const created = await injectJson(app, {
      method: "POST",
      url: "/api/admin/tokens/create",
      headers: admin,
      payload: { label: "press office", max_transfers: 5, max_bytes: 10_000, expires_in_seconds: 3600 },
    });
    expect(created.status).toBe(201);
    const secret: string = created.body.secret;
    const id: string = created.body.token.token_id;
    expect(secret).toMatch(/^gst_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(created.body.token).toMatchObject({
      label: "press office",
      state: "active",
      max_transfers: 5,
      max_bytes: 10_000,
      transfers_used: 0,
      bytes_used: 0,
      revoked_at: null,
      expires_at: new Date(clock.now + 3_600_000).toISOString(),
    });

    // The secret is nowhere in storage: not in a key, not in a record.
    const store = app.services.store;
    const secretPart = secret.split(".")[1];
    for (const key of await systemKeys(store)) {
      expect(key).not.toContain(secretPart);
      const body = (await readAll((await store.getObject({ bucket: "glider-system", key })).body)).toString("latin1");
      expect(body).not.toContain(secretPart);
    }

    await readyTransfer(app, secret, randomBytes(1234));
    const list = await injectJson(app, { method: "GET", url: "/api/admin/tokens/list", headers: admin });
    expect(list.body.tokens).toHaveLength(1);
    expect(list.body.tokens[0]).toMatchObject({ token_id: id, transfers_used: 1, bytes_used: 1234 });
    expect(list.body.tokens[0].last_used_at).toBe(new Date(clock.now).toISOString());
    expect(JSON.stringify(list.body)).not.toContain(secretPart);

    const revoked = await injectJson(app, { method: "POST", url: `/api/admin/tokens/id/${id}/revoke`, headers: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body.token.state).toBe("revoked");
    const refused = await createTransfer(app, secret, { size: 1 });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("token_revoked");

    const unknown = await injectJson(app, {
      method: "POST",
      url: `/api/admin/tokens/id/${"B".repeat(22)}/revoke`,
      headers: admin,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("token_not_found");
  });

  it("refuses a used-up token with token_exhausted and an over-quota transfer with token_quota_exceeded", async () => {
    const byCount = await issueToken(app, { label: "one shot", max_transfers: 1 });
    expect((await createTransfer(app, byCount.secret, { size: 10 })).status).toBe(201);
    const second = await createTransfer(app, byCount.secret, { size: 10 });
    expect(second.status).toBe(403);
    expect(second.body.error.code).toBe("token_exhausted");

    const byBytes = await issueToken(app, { label: "small", max_bytes: 1000 });
    expect((await createTransfer(app, byBytes.secret, { size: 600 })).status).toBe(201);
    const over = await createTransfer(app, byBytes.secret, { size: 401 });
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({
      code: "token_quota_exceeded",
      details: { max_bytes: 1000, bytes_used: 600, requested_bytes: 401 },
    });
    expect((await createTransfer(app, byBytes.secret, { size: 400 })).status).toBe(201);
    const full = await createTransfer(app, byBytes.secret, { size: 1 });
    expect(full.status).toBe(403);
    expect(full.body.error.code).toBe("token_exhausted");

    const tokens = (await injectJson(app, { method: "GET", url: "/api/admin/tokens/list", headers: admin })).body
      .tokens;
    expect(tokens.map((t: { state: string }) => t.state)).toEqual(["exhausted", "exhausted"]);
  });

  it("lets an exhausted token still finish the transfer it created", async () => {
    const token = await issueToken(app, { label: "one shot", max_transfers: 1 });
    const payload = randomBytes(50);
    const id = (await createTransfer(app, token.secret, { size: 50 })).body.transfer.transfer_id;
    expect((await uploadBytes(app, token.secret, id, payload)).status).toBe(200);
  });

  it("expires tokens by the clock", async () => {
    const token = await issueToken(app, { label: "short", expires_in_seconds: 60 });
    const id = (await createTransfer(app, token.secret, { size: 5 })).body.transfer.transfer_id;
    clock.advance(60_000);
    const refused = await createTransfer(app, token.secret, { size: 5 });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("token_expired");
    const upload = await uploadBytes(app, token.secret, id, randomBytes(5));
    expect(upload.status).toBe(401);
    expect(upload.body.error.code).toBe("token_expired");
    const list = await injectJson(app, { method: "GET", url: "/api/admin/tokens/list", headers: admin });
    expect(list.body.tokens[0].state).toBe("expired");
  });

  it("validates token bodies and ids", async () => {
    const noLabel = await injectJson(app, {
      method: "POST",
      url: "/api/admin/tokens/create",
      headers: admin,
      payload: {},
    });
    expect(noLabel.status).toBe(400);
    expect(noLabel.body.error.code).toBe("invalid_request");
    const negative = await injectJson(app, {
      method: "POST",
      url: "/api/admin/tokens/create",
      headers: admin,
      payload: { label: "x", max_bytes: -1 },
    });
    expect(negative.status).toBe(400);
    const badId = await injectJson(app, { method: "POST", url: "/api/admin/tokens/id/short/revoke", headers: admin });
    expect(badId.status).toBe(400);
  });
});
