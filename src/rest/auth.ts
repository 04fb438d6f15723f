import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { clientSignal } from "../http/client-signal.js";
import { sessionCookie } from "../http/cookies.js";
import { readCredentials } from "../services/credentials.js";
import type { Services } from "../services/index.js";
import { CROSS_ORIGIN, errorResponses, JSON_BODY, SECURITY, SHARED, StringEnum } from "./schemas.js";

const SessionBody = Type.Object({
  credentials: Type.Object({
    access_key_id: Type.String({ minLength: 1, maxLength: 256 }),
    secret_access_key: Type.String({ minLength: 1, maxLength: 1024 }),
    region: Type.Optional(Type.String({ maxLength: 64 })),
    endpoint: Type.Optional(
      Type.String({ maxLength: 2048, description: "S3 endpoint; empty signs in to the server's own store" }),
    ),
    addressing_style: Type.Optional(StringEnum(["path", "virtual", "auto", ""])),
    verify: Type.Optional(Type.Boolean()),
  }),
});

const Mode = StringEnum(["fs", "memory", "s3"]);

const Sessions = { tags: ["Sessions"] };

function secure(request: FastifyRequest): boolean {
  return request.protocol === "https";
}

/** The Commander UI's sessions: sign in, sign out, status (`/api/auth/session`). Secrets never appear in answers. */
export const authRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post(
    "/auth/session",
    {
      schema: {
        ...Sessions,
        operationId: "signIn",
        security: SECURITY.none,
        summary: "Sign in (Commander UI); the credentials select the session's storage connection",
        description:
          "With an S3 endpoint (or when the server runs on S3) the keys are checked with ListBuckets: refused keys " +
          "403 invalid_credentials, unreachable endpoint 502 endpoint_unreachable. On the embedded store they must " +
          "match LOCAL_ACCESS_KEY_ID / LOCAL_SECRET_ACCESS_KEY. Sets the HttpOnly cookie glider_session.",
        body: SessionBody,
        response: {
          200: Type.Object(
            { message: Type.String(), valid: Type.Literal(true), expires_in: Type.Integer(), mode: Mode },
            { additionalProperties: false, description: "Session created (Set-Cookie glider_session)" },
          ),
          ...errorResponses([
            ...JSON_BODY,
            ...CROSS_ORIGIN,
            ...SHARED,
            "invalid_credentials",
            "endpoint_unreachable",
            "sdk_error",
          ]),
        },
      },
    },
    async (request, reply) => {
      const c = request.body.credentials;
      const session = await services.connections.login(
        {
          accessKeyId: c.access_key_id,
          secretAccessKey: c.secret_access_key,
          region: c.region,
          endpoint: c.endpoint,
          addressingStyle: c.addressing_style || undefined,
        },
        clientSignal(reply),
      );
      // A new sign-in replaces the previous session of this browser.
      const previous = readCredentials(request).sessionId;
      if (previous) await services.connections.logout(previous);
      reply.header("set-cookie", sessionCookie(session.sessionId, session.expiresInSeconds, secure(request)));
      request.log.info({ connection: session.connection.id }, "session created");
      return {
        message: "Session created",
        valid: true as const,
        expires_in: session.expiresInSeconds,
        mode: session.connection.id === "server" ? services.store.kind : "s3",
      };
    },
  );

  app.delete(
    "/auth/session",
    {
      schema: {
        ...Sessions,
        operationId: "signOut",
        security: SECURITY.optionalSession,
        summary: "Sign out (clears the cookie; signing out twice is fine)",
        response: {
          200: Type.Object(
            { message: Type.String(), valid: Type.Literal(false) },
            { additionalProperties: false, description: "Signed out" },
          ),
          ...errorResponses([...CROSS_ORIGIN, ...SHARED]),
        },
      },
    },
    async (request, reply) => {
      const id = readCredentials(request).sessionId;
      if (id) await services.connections.logout(id);
      reply.header("set-cookie", sessionCookie("", 0, secure(request)));
      return { message: "Session destroyed", valid: false as const };
    },
  );

  app.get(
    "/auth/session/status",
    {
      schema: {
        ...Sessions,
        operationId: "getSessionStatus",
        security: SECURITY.optionalSession,
        summary: "Whether the request's session is valid, and its idle time left",
        response: {
          200: Type.Object(
            { valid: Type.Literal(true), expires_in: Type.Integer(), mode: Mode },
            { additionalProperties: false, description: "Valid" },
          ),
          // Not the plain envelope: the Commander reads `valid` here too.
          401: Type.Object(
            {
              valid: Type.Literal(false),
              error: Type.Object({
                code: StringEnum(["session_required"]),
                message: Type.String(),
                details: Type.Object({
                  reason: StringEnum(["missing", "expired"]),
                  require_session: Type.Boolean(),
                }),
              }),
            },
            { description: "No session, or it expired (code session_required)" },
          ),
          ...errorResponses(SHARED),
        },
      },
    },
    async (request, reply) => {
      const id = readCredentials(request).sessionId;
      const session = id ? await services.connections.session(id) : undefined;
      if (!session) {
        return reply.status(401).send({
          valid: false,
          error: {
            code: "session_required",
            message: id ? "the session has expired: sign in again" : "no session: sign in first",
            details: { reason: id ? "expired" : "missing", require_session: services.connections.requireSession },
          },
        });
      }
      return {
        valid: true as const,
        expires_in: session.expiresInSeconds,
        mode: session.connection.id === "server" ? services.store.kind : "s3",
      };
    },
  );
};
