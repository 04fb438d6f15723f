import { randomBytes } from "node:crypto";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateResponse } from "../../helpers/openapi.js";
import { admin, bearer, buildSendApp, type SendApp, sha256 } from "./helpers.js";

/** Real Send responses, happy and failing, checked against openapi.yaml so the document cannot drift. */
describe("openapi.yaml describes the Send responses", () => {
  let send: SendApp;
  const problems: string[] = [];
  let checked = 0;

  beforeAll(async () => {
    send = await buildSendApp();
  });
  afterAll(() => send.app.close());

  async function call(options: InjectOptions) {
    const res = await send.app.inject(options);
    const type = String(res.headers["content-type"] ?? "");
    const body = type.includes("json") ? res.json() : res.body;
    problems.push(...validateResponse(String(options.method), String(options.url), res.statusCode, type, body));
    checked++;
    return { status: res.statusCode, body };
  }

  it("matches for every Send route", async () => {
    const token = await call({
      method: "POST",
      url: "/api/admin/tokens/create",
      headers: admin,
      payload: { label: "o" },
    });
    expect(token.status).toBe(201);
    const auth = bearer(token.body.secret);
    const payload = randomBytes(500);
    const created = await call({
      method: "POST",
      url: "/api/transfers/create",
      headers: auth,
      payload: { size: payload.length, max_downloads: 1, delete_auth_hash: sha256("d") },
    });
    const t = `/api/transfers/id/${created.body.transfer.transfer_id}`;
    const steps: InjectOptions[] = [
      { method: "POST", url: `${t}/upload/complete`, headers: auth },
      {
        method: "POST",
        url: `${t}/payload/upload-bytes`,
        headers: { ...auth, "content-type": "application/octet-stream" },
        payload,
      },
      { method: "POST", url: `${t}/upload/complete`, headers: auth },
      { method: "GET", url: `${t}/status` },
      { method: "POST", url: `${t}/download/create-presign-url` },
      { method: "GET", url: `${t}/payload/download-bytes` },
      { method: "GET", url: `${t}/status` },
      { method: "POST", url: `${t}/events/add`, payload: { type: "done", data: { n: 1 } } },
      { method: "POST", url: `${t}/events/add`, payload: { nope: 1 } },
      { method: "GET", url: `${t}/events/list` },
      { method: "GET", url: `${t}/actions/list` },
      { method: "POST", url: `${t}/delete`, payload: { delete_auth: "wrong" } },
      { method: "POST", url: `${t}/delete`, payload: { delete_auth: "d" } },
      { method: "GET", url: "/api/transfers/id/AAAAAAAAAAAAAAAAAAAAAA/status" },
      { method: "GET", url: "/api/transfers/id/bad/status" },
      { method: "POST", url: "/api/transfers/create", payload: { size: 1 } },
      { method: "POST", url: "/api/transfers/create", headers: auth, payload: { size: 100_000_001 } },
      { method: "GET", url: "/api/admin/tokens/list", headers: admin },
      { method: "GET", url: "/api/admin/tokens/list" },
      { method: "GET", url: "/api/admin/stats/overview", headers: admin },
      { method: "GET", url: `/api/admin/audit/transfers/id/${created.body.transfer.transfer_id}/all`, headers: admin },
      { method: "POST", url: `/api/admin/tokens/id/${token.body.token.token_id}/revoke`, headers: admin },
    ];
    for (const step of steps) await call(step);
    expect(checked).toBe(steps.length + 2);
    expect(problems).toEqual([]);
  });
});
