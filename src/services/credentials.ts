/**
 * The one reader of a request's credentials, for every front door (REST routes, the GraphQL context over HTTP and
 * WebSocket, the Commander session routes). It takes plain headers, so services never see a web framework, and it
 * never throws: a malformed value presents no credential, which the check that needs it then refuses.
 */

/** Header values as Node, fastify and the WebSocket upgrade request hand them over. */
export type HeaderBag = Record<string, string | string[] | undefined>;

/** The admin API key, as a header (scripts) or as the admin UI's HttpOnly cookie. */
export const ADMIN_KEY_HEADER = "x-admin-key";
export const ADMIN_KEY_COOKIE = "glider_admin_key";
/** The session cookie of the Commander UI's sign-in (`POST /api/auth/session`). */
export const SESSION_COOKIE = "glider_session";

export interface Credentials {
  /** From `x-admin-key`, else from the `glider_admin_key` cookie. */
  adminKey?: string;
  /** A sender token from `Authorization: Bearer …`. */
  bearer?: string;
  /** The Commander session id from the `glider_session` cookie. */
  sessionId?: string;
  userAgent?: string;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Percent-decoding that cannot throw: invalid encoding (a lone `%`, bad UTF-8) reads as no value. */
function decode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** One cookie's value from a `Cookie` header (undefined when absent, empty or not valid percent-encoding). */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join("; ") : header;
  if (!text) return undefined;
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    return decode(part.slice(eq + 1).trim()) || undefined;
  }
  return undefined;
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235), else undefined. */
export function readBearer(header: string | string[] | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(first(header) ?? "")?.[1];
}

/** Every credential a request presents; absent or malformed ones are left out. */
export function readCredentials({ headers }: { headers: HeaderBag }): Credentials {
  const adminHeader = first(headers[ADMIN_KEY_HEADER]);
  return {
    adminKey: adminHeader || readCookie(headers.cookie, ADMIN_KEY_COOKIE),
    bearer: readBearer(headers.authorization),
    sessionId: readCookie(headers.cookie, SESSION_COOKIE),
    userAgent: first(headers["user-agent"]),
  };
}

/**
 * Credentials a graphql-ws client sends in `connectionParams` (browsers cannot set headers on a WebSocket upgrade):
 * `{ adminKey?, authorization?: "Bearer …", sessionId? }`. Each one present replaces the upgrade request's; any
 * other shape (not an object, non-string values) presents nothing, as a malformed header does.
 */
export function withConnectionParams(fromHeaders: Credentials, params: unknown): Credentials {
  if (typeof params !== "object" || params === null) return fromHeaders;
  const text = (key: string) => {
    const value = (params as Record<string, unknown>)[key];
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const authorization = text("authorization");
  return {
    ...fromHeaders,
    adminKey: text("adminKey") ?? fromHeaders.adminKey,
    bearer: authorization !== undefined ? readBearer(authorization) : fromHeaders.bearer,
    sessionId: text("sessionId") ?? fromHeaders.sessionId,
  };
}
