import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { ADMIN_KEY_COOKIE, readCredentials } from "../../services/credentials.js";
import type { ErrorCode } from "../../services/errors.js";
import type { Services } from "../../services/index.js";
import { described, errorResponses, INPUT, JSON_BODY, SECURITY, SHARED, STORE } from "../schemas.js";
import { auditJson, statsJson, tokenJson } from "./json.js";
import { AuditRecord, CreateTokenBody, IdParams, Stats, Token } from "./schemas.js";

/** The admin hook: no or a wrong key (401), the admin API off or a cookie from a foreign origin (403). */
const ADMIN: ErrorCode[] = ["unauthorized", "forbidden"];
const SEND_STORE: ErrorCode[] = [...STORE, ...SHARED];
const Admin = { tags: ["Send admin"], security: SECURITY.admin };

/**
 * Admin Send routes (prefix `/api/admin`). The onRequest hook of this context checks the admin key on every route
 * registered here, before validation or body parsing, so no admin route can be added without it.
 */
export const adminRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  // An admin-only deployment (SEND_SURFACE=admin) sweeps too; start() is idempotent.
  app.addHook("onReady", () => services.transfers.start());
  app.addHook("onRequest", async (request) => {
    services.tokens.verifyAdminKey(readCredentials(request).adminKey);
  });

  app.post(
    "/tokens/create",
    {
      schema: {
        ...Admin,
        operationId: "createSenderToken",
        summary: "Send admin: issue a sender token; the secret is only in this response",
        body: CreateTokenBody,
        response: {
          201: Type.Object(
            { token: Token, secret: Type.String({ pattern: "^gst_[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$" }) },
            { additionalProperties: false, description: "The token and its bearer secret" },
          ),
          ...errorResponses([...ADMIN, ...JSON_BODY, ...SEND_STORE]),
        },
      },
    },
    async (request, reply) => {
      const created = await services.tokens.create({
        label: request.body.label,
        maxTransfers: request.body.max_transfers,
        maxBytes: request.body.max_bytes,
        expiresInSeconds: request.body.expires_in_seconds,
      });
      return reply.status(201).send({ token: tokenJson(created.token), secret: created.secret });
    },
  );

  app.get(
    "/tokens/list",
    {
      schema: {
        ...Admin,
        operationId: "listSenderTokens",
        summary: "Send admin: every sender token, newest first",
        response: {
          200: Type.Object({ tokens: Type.Array(Token) }, { additionalProperties: false, description: "Tokens" }),
          ...errorResponses([...ADMIN, ...SEND_STORE]),
        },
      },
    },
    async () => ({ tokens: (await services.tokens.list()).map(tokenJson) }),
  );

  app.post(
    "/tokens/id/:id/revoke",
    {
      schema: {
        ...Admin,
        operationId: "revokeSenderToken",
        summary: "Send admin: revoke a sender token (idempotent)",
        params: IdParams,
        response: {
          200: Type.Object({ token: Token }, { additionalProperties: false, description: "The revoked token" }),
          ...errorResponses([...ADMIN, ...INPUT, ...SEND_STORE, "token_not_found"]),
        },
      },
    },
    async (request) => ({ token: tokenJson(await services.tokens.revoke(request.params.id)) }),
  );

  // A browser session for the admin UI: the key (checked by the hook above, from the header) becomes an HttpOnly,
  // SameSite=Strict cookie; the browser policy then demands a same-origin Origin on state-changing requests.
  app.post(
    "/session",
    {
      schema: {
        ...Admin,
        operationId: "createAdminSession",
        summary:
          "Send admin: turn the x-admin-key header into an HttpOnly, SameSite=Strict session cookie (Secure over HTTPS)",
        response: {
          204: {
            type: "null",
            description: "Cookie glider_admin_key set",
            headers: { "Set-Cookie": { type: "string" } },
          },
          ...errorResponses(ADMIN),
        },
      },
    },
    async (request, reply) => {
      app.browserPolicy.setCredentialCookie(request, reply, ADMIN_KEY_COOKIE, readCredentials(request).adminKey ?? "");
      return reply.status(204).send(null);
    },
  );
  app.delete(
    "/session",
    {
      schema: {
        ...Admin,
        operationId: "deleteAdminSession",
        summary: "Send admin: clear the session cookie",
        response: { 204: { type: "null", description: "Cookie cleared" }, ...errorResponses(ADMIN) },
      },
    },
    async (request, reply) => {
      app.browserPolicy.clearCredentialCookie(request, reply, ADMIN_KEY_COOKIE);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/stats/overview",
    {
      schema: {
        ...Admin,
        operationId: "getAdminOverview",
        summary: "Send admin: transfers by status, stored bytes, downloads, tokens by state",
        response: { 200: described(Stats, "Counts"), ...errorResponses([...ADMIN, ...SEND_STORE]) },
      },
    },
    async () => statsJson(await services.transfers.stats()),
  );

  app.get(
    "/audit/transfers/id/:id/all",
    {
      schema: {
        ...Admin,
        operationId: "getTransferAudit",
        summary: "Send admin: requests, actions and events of one transfer, merged in time order",
        params: IdParams,
        response: {
          200: Type.Object(
            { transfer_id: Type.String(), records: Type.Array(AuditRecord) },
            { additionalProperties: false, description: "The audit stream" },
          ),
          ...errorResponses([...ADMIN, ...INPUT, ...SEND_STORE, "transfer_not_found"]),
        },
      },
    },
    async (request) => ({
      transfer_id: request.params.id,
      records: (await services.transfers.auditTrail(request.params.id)).map(auditJson),
    }),
  );
};
