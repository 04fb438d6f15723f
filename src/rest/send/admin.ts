import type { FastifyInstance } from "fastify";
import { ADMIN_KEY_COOKIE, readCredentials } from "../../services/credentials.js";
import type { Services } from "../../services/index.js";
import { auditJson, statsJson, tokenJson } from "./json.js";
import { schemas } from "./schemas.js";

/**
 * Admin Send routes (prefix `/api/admin`). The onRequest hook of this context checks the admin key on every route
 * registered here, before validation or body parsing, so no admin route can be added without it.
 */
export async function adminRoutes(app: FastifyInstance, { services }: { services: Services }) {
  // An admin-only deployment (SEND_SURFACE=admin) sweeps too; start() is idempotent.
  app.addHook("onReady", () => services.transfers.start());
  app.addHook("onRequest", async (request) => {
    services.tokens.verifyAdminKey(readCredentials(request).adminKey);
  });

  app.post<{ Body: { label: string; max_transfers?: number; max_bytes?: number; expires_in_seconds?: number } }>(
    "/tokens/create",
    { schema: schemas.createToken },
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

  app.get("/tokens/list", { schema: schemas.listTokens }, async () => ({
    tokens: (await services.tokens.list()).map(tokenJson),
  }));

  app.post<{ Params: { id: string } }>("/tokens/id/:id/revoke", { schema: schemas.revokeToken }, async (request) => ({
    token: tokenJson(await services.tokens.revoke(request.params.id)),
  }));

  // A browser session for the admin UI: the key (checked by the hook above, from the header) becomes an HttpOnly,
  // SameSite=Strict cookie; the browser policy then demands a same-origin Origin on state-changing requests.
  app.post("/session", async (request, reply) => {
    app.browserPolicy.setCredentialCookie(request, reply, ADMIN_KEY_COOKIE, readCredentials(request).adminKey ?? "");
    return reply.status(204).send();
  });
  app.delete("/session", async (request, reply) => {
    app.browserPolicy.clearCredentialCookie(request, reply, ADMIN_KEY_COOKIE);
    return reply.status(204).send();
  });

  app.get("/stats/overview", async () => statsJson(await services.transfers.stats()));

  app.get<{ Params: { id: string } }>("/audit/transfers/id/:id/all", { schema: schemas.auditAll }, async (request) => ({
    transfer_id: request.params.id,
    records: (await services.transfers.auditTrail(request.params.id)).map(auditJson),
  }));
}
