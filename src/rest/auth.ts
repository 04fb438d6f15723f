import type { FastifyInstance, FastifyRequest } from "fastify";
import { clientSignal } from "../http/client-signal.js";
import { sessionCookie } from "../http/cookies.js";
import { readCredentials } from "../services/credentials.js";
import { GliderError } from "../services/errors.js";
import type { Services } from "../services/index.js";

interface CredentialsBody {
  credentials: {
    access_key_id: string;
    secret_access_key: string;
    region?: string;
    endpoint?: string;
    addressing_style?: "path" | "virtual" | "auto";
    verify?: boolean;
  };
}

const sessionBody = {
  type: "object",
  required: ["credentials"],
  properties: {
    credentials: {
      type: "object",
      required: ["access_key_id", "secret_access_key"],
      properties: {
        access_key_id: { type: "string", minLength: 1, maxLength: 256 },
        secret_access_key: { type: "string", minLength: 1, maxLength: 1024 },
        region: { type: "string", maxLength: 64 },
        endpoint: { type: "string", maxLength: 2048 },
        addressing_style: { enum: ["path", "virtual", "auto", ""] },
        verify: { type: "boolean" },
      },
    },
  },
} as const;

function secure(request: FastifyRequest): boolean {
  return request.protocol === "https";
}

/** The Commander UI's sessions: sign in, sign out, status (`/api/auth/session`). Secrets never appear in answers. */
export async function authRoutes(app: FastifyInstance, { services }: { services: Services }) {
  app.post<{ Body: CredentialsBody }>("/auth/session", { schema: { body: sessionBody } }, async (request, reply) => {
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
      valid: true,
      expires_in: session.expiresInSeconds,
      mode: session.connection.id === "server" ? services.store.kind : "s3",
    };
  });

  app.delete("/auth/session", async (request, reply) => {
    const id = readCredentials(request).sessionId;
    if (id) await services.connections.logout(id);
    reply.header("set-cookie", sessionCookie("", 0, secure(request)));
    return { message: "Session destroyed", valid: false };
  });

  app.get("/auth/session/status", async (request, reply) => {
    const id = readCredentials(request).sessionId;
    const session = id ? await services.connections.session(id) : undefined;
    if (!session) {
      const error = new GliderError(
        "session_required",
        id ? "the session has expired: sign in again" : "no session: sign in first",
        { reason: id ? "expired" : "missing", require_session: services.connections.requireSession },
      );
      return reply.status(401).send({
        valid: false,
        error: { code: error.code, message: error.message, details: error.details },
      });
    }
    return {
      valid: true,
      expires_in: session.expiresInSeconds,
      mode: session.connection.id === "server" ? services.store.kind : "s3",
    };
  });
}
