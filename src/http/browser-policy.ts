import cookie from "@fastify/cookie";
import cors from "@fastify/cors";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GliderError } from "../services/errors.js";

/**
 * One CORS and cookie policy for both front doors (REST and GraphQL, WebSocket included):
 * - CORS: only origins in `CORS_ORIGINS` get `Access-Control-Allow-Origin` (with credentials); every other origin
 *   gets no CORS header at all, so a browser keeps the answer from the page (same-origin only by default).
 * - Cookies that authenticate are set by `setCredentialCookie`: HttpOnly, Path=/, Secure when the request came over
 *   HTTPS, SameSite=Strict unless the caller asks for Lax.
 * - A state-changing request (not GET/HEAD/OPTIONS) or a WebSocket upgrade that carries such a cookie must come from
 *   the server's own origin or an allowed one (Origin, else Referer); a browser request from anywhere else is
 *   refused with 403 `forbidden` before any handler runs. Requests with neither header (curl, servers) pass:
 *   only browsers attach cookies on a third party's behalf.
 *
 * Other front doors register their cookie names with `credentialCookies.add(name)` so the origin check covers them.
 */
export interface BrowserPolicy {
  /** Names of cookies that authenticate a request. */
  credentialCookies: Set<string>;
  isAllowedOrigin(origin: string, request: FastifyRequest): boolean;
  setCredentialCookie(
    request: FastifyRequest,
    reply: FastifyReply,
    name: string,
    value: string,
    options?: { sameSite?: "strict" | "lax"; maxAgeSeconds?: number },
  ): void;
  clearCredentialCookie(request: FastifyRequest, reply: FastifyReply, name: string): void;
}

declare module "fastify" {
  interface FastifyInstance {
    browserPolicy: BrowserPolicy;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The origin the request was addressed to, as a browser on it would send it (`http://host:port`). */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function originOf(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin === "string" && origin !== "") return origin;
  const referer = request.headers.referer;
  if (typeof referer === "string" && referer !== "") {
    try {
      return new URL(referer).origin;
    } catch {
      return "null";
    }
  }
  return undefined;
}

/** Registers CORS, cookie parsing and the origin check on the root instance (before any route). */
export async function applyBrowserPolicy(app: FastifyInstance, options: { corsOrigins: readonly string[] }) {
  const allowed = new Set(options.corsOrigins);
  const credentialCookies = new Set<string>();

  const isAllowedOrigin = (origin: string, request: FastifyRequest) =>
    origin === ownOrigin(request) || allowed.has(origin);

  await app.register(cookie);
  await app.register(cors, {
    // Only listed origins are answered; same-origin requests need no CORS header.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
    allowedHeaders: ["content-type", "authorization", "x-admin-key", "accept"],
    exposedHeaders: ["content-disposition", "x-dg-logical-etag", "retry-after"],
    maxAge: 600,
    strictPreflight: false,
  });

  app.addHook("onRequest", async (request) => {
    const upgrade = request.headers.upgrade?.toLowerCase() === "websocket";
    if (SAFE_METHODS.has(request.method) && !upgrade) return;
    const cookies = request.cookies ?? {};
    if (![...credentialCookies].some((name) => cookies[name] !== undefined)) return;
    const origin = originOf(request);
    if (origin === undefined || isAllowedOrigin(origin, request)) return;
    throw new GliderError("forbidden", `requests authenticated by cookie are not accepted from ${origin}`, {
      origin,
    });
  });

  const policy: BrowserPolicy = {
    credentialCookies,
    isAllowedOrigin,
    setCredentialCookie(request, reply, name, value, cookieOptions = {}) {
      credentialCookies.add(name);
      reply.setCookie(name, value, {
        httpOnly: true,
        sameSite: cookieOptions.sameSite ?? "strict",
        secure: request.protocol === "https",
        path: "/",
        ...(cookieOptions.maxAgeSeconds !== undefined ? { maxAge: cookieOptions.maxAgeSeconds } : {}),
      });
    },
    clearCredentialCookie(request, reply, name) {
      reply.clearCookie(name, { httpOnly: true, sameSite: "strict", secure: request.protocol === "https", path: "/" });
    },
  };
  app.decorate("browserPolicy", policy);
  return policy;
}
