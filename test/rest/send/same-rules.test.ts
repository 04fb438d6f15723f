import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GliderError } from "../../../src/services/errors.js";
import { outcomeStatus } from "../../../src/services/send/request-audit.js";
import { buildTestApp } from "../../helpers/app.js";
import { ADMIN_KEY, admin, bearer, buildSendApp, createTransfer, injectJson, issueToken, sha256 } from "./helpers.js";

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { extensions?: { code?: string } }[];
}

async function graphql(app: FastifyInstance, query: string, headers: Record<string, string> = {}) {
  const res = await app.inject({
    method: "POST",
    url: "/graphql",
    headers: { "content-type": "application/json", ...headers },
    payload: { query },
  });
  return res.json() as GraphQLAnswer;
}

/** The code of a GraphQL error, or of a typed `Error` result (the errors plugin's unions) under one root field. */
const codeOf = (answer: GraphQLAnswer) =>
  answer.errors?.[0]?.extensions?.code ??
  (Object.values(answer.data ?? {})[0] as { code?: string } | null | undefined)?.code;

describe("Send: REST and GraphQL apply one set of rules", () => {
  let app: FastifyInstance;
  let secret: string;

  beforeAll(async () => {
    ({ app } = await buildSendApp());
    ({ secret } = await issueToken(app));
  });
  afterAll(async () => {
    await app.close();
  });

  it("refuses a missing, wrong or malformed admin key with the same code on both doors", async () => {
    const cases: Record<string, string>[] = [
      {},
      { "x-admin-key": "wrong" },
      // Not valid percent-encoding: no key, not a 500.
      { cookie: "glider_admin_key=%E0%A4%A" },
    ];
    for (const headers of cases) {
      const rest = await injectJson(app, { method: "GET", url: "/api/admin/tokens/list", headers });
      const gql = await graphql(app, "{ tokens { edges { node { id } } } }", headers);
      expect(rest.status, JSON.stringify(headers)).toBe(401);
      expect(rest.body.error.code).toBe("unauthorized");
      expect(codeOf(gql), JSON.stringify(headers)).toBe(rest.body.error.code);
    }
    const cookie = { cookie: `glider_admin_key=${encodeURIComponent(ADMIN_KEY)}` };
    expect((await injectJson(app, { method: "GET", url: "/api/admin/tokens/list", headers: cookie })).status).toBe(200);
    expect((await graphql(app, "{ tokens { edges { node { id } } } }", cookie)).errors).toBeUndefined();
  });

  it("answers `forbidden` on both doors when no admin key is configured", async () => {
    const open = await buildTestApp({ SEND_SWEEP_INTERVAL_MS: "0" });
    try {
      const rest = await injectJson(open, { method: "GET", url: "/api/admin/tokens/list", headers: admin });
      const gql = await graphql(open, "{ stats { transfers } }", admin);
      expect(rest.status).toBe(403);
      expect(rest.body.error.code).toBe("forbidden");
      expect(codeOf(gql)).toBe("forbidden");
    } finally {
      await open.close();
    }
  });

  it("reads the bearer the same way (scheme in any case) and refuses a bad one alike", async () => {
    const body = { size: 4, max_downloads: 1 };
    const input = "{ size: 4, maxDownloads: 1 }";
    const create = `mutation { createTransfer(input: ${input}) { ... on CreateTransferPayload { transfer { id } } ... on Error { code } } }`;
    for (const authorization of ["bearer nope", "Basic abc", ""]) {
      const rest = await injectJson(app, {
        method: "POST",
        url: "/api/transfers/create",
        headers: { authorization },
        payload: body,
      });
      expect(rest.body.error.code, authorization).toBe("unauthorized");
      expect(codeOf(await graphql(app, create, { authorization })), authorization).toBe("unauthorized");
    }
    const lower = { authorization: `bearer ${secret}` };
    expect(
      (await injectJson(app, { method: "POST", url: "/api/transfers/create", headers: lower, payload: body })).status,
    ).toBe(201);
    expect((await graphql(app, create, lower)).errors).toBeUndefined();
  });

  it("records the same audit statuses for the same wrong and right calls", async () => {
    const created = await createTransfer(app, secret, { size: 4, delete_auth_hash: sha256("right") });
    expect(created.status).toBe(201);
    const id: string = created.body.transfer.transfer_id;
    // GraphQL arguments take the global id (Relay's `base64("Transfer:" + id)`); REST routes the raw one.
    const globalId = Buffer.from(`Transfer:${id}`).toString("base64");
    const viaGraphql = await graphql(
      app,
      `mutation { createTransfer(input: { size: 4 }) { ... on CreateTransferPayload { transfer { transferId } } } }`,
      bearer(secret),
    );
    const made = viaGraphql.data?.createTransfer as { transfer: { transferId: string } } | undefined;
    const gqlId = made?.transfer.transferId;
    expect(gqlId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // The same four calls on each door, in the same order: complete before upload, complete without a token,
    // delete with a wrong secret, a status read.
    const restCodes = [
      (
        await injectJson(app, {
          method: "POST",
          url: `/api/transfers/id/${id}/upload/complete`,
          headers: bearer(secret),
        })
      ).body.error.code,
      (await injectJson(app, { method: "POST", url: `/api/transfers/id/${id}/upload/complete` })).body.error.code,
      (
        await injectJson(app, {
          method: "POST",
          url: `/api/transfers/id/${id}/delete`,
          payload: { delete_auth: "wrong" },
        })
      ).body.error.code,
      (await injectJson(app, { method: "GET", url: `/api/transfers/id/${id}/status` })).body.error?.code,
    ];
    const gqlCodes = [
      codeOf(
        await graphql(
          app,
          `mutation { completeTransfer(input: { id: "${globalId}" }) { ... on Error { code } } }`,
          bearer(secret),
        ),
      ),
      codeOf(
        await graphql(app, `mutation { completeTransfer(input: { id: "${globalId}" }) { ... on Error { code } } }`),
      ),
      codeOf(
        await graphql(
          app,
          `mutation { deleteTransfer(input: { id: "${globalId}", deleteAuth: "wrong" }) { ... on Error { code } } }`,
        ),
      ),
      codeOf(await graphql(app, `{ transfer(id: "${globalId}") { status } }`)),
    ];
    expect(restCodes).toEqual(["invalid_state", "unauthorized", "forbidden", undefined]);
    expect(gqlCodes).toEqual(restCodes);

    const trail = await injectJson(app, {
      method: "GET",
      url: `/api/admin/audit/transfers/id/${id}/all`,
      headers: admin,
    });
    const requests = (trail.body.records as { kind: string; route: string; status: number }[]).filter(
      (r) => r.kind === "request",
    );
    const statuses = (graphqlDoor: boolean) =>
      requests.filter((r) => r.route.startsWith("graphql ") === graphqlDoor).map((r) => r.status);
    // REST's create record comes first (201); then the four calls.
    expect(statuses(false)).toEqual([201, 409, 401, 403, 200]);
    expect(statuses(true)).toEqual([409, 401, 403, 200]);

    // A transfer created through GraphQL is recorded as REST's create is: 201, in its own trail.
    const gqlTrail = await injectJson(app, {
      method: "GET",
      url: `/api/admin/audit/transfers/id/${gqlId}/all`,
      headers: admin,
    });
    const gqlRequests = (gqlTrail.body.records as { kind: string; route: string; status: number }[]).filter(
      (r) => r.kind === "request",
    );
    expect(gqlRequests.map((r) => [r.route, r.status])).toEqual([["graphql Mutation.createTransfer", 201]]);
  });

  it("maps transfer_not_found to 404 for REST's records; GraphQL's lookup answers null", async () => {
    const unknown = "A".repeat(22);
    const rest = await injectJson(app, { method: "GET", url: `/api/transfers/id/${unknown}/status` });
    const gql = await graphql(
      app,
      `{ transfer(id: "${Buffer.from(`Transfer:${unknown}`).toString("base64")}") { status } }`,
    );
    expect(rest.body.error.code).toBe("transfer_not_found");
    // A nullable single lookup (issue 21, finding 3): the miss is `null`, not an error.
    expect(gql).toEqual({ data: { transfer: null } });
    expect(outcomeStatus({ error: new GliderError("transfer_not_found", "gone") })).toBe(rest.status);
    expect(rest.status).toBe(404);
  });
});
