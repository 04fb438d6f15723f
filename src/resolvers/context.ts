import { timingSafeEqual } from "node:crypto";
import type { Services } from "../services/index.js";
import { createLoaders, type Loaders } from "./loaders.js";

/** Built per GraphQL operation (HTTP or WebSocket). */
export interface GraphQLContext {
  services: Services;
  /** Aborted when the client goes away, so storage reads stop with it. */
  signal: AbortSignal;
  /** Caller address (for rate limits and audit). */
  ip: string;
  loaders: Loaders;
  /** The caller presented the admin API key (header `x-admin-key` or cookie `glider_admin_key`). */
  isAdmin: boolean;
  /** Bearer token from `Authorization`, for sender-token operations. */
  bearer?: string;
  userAgent?: string;
}

export interface RequestCredentials {
  adminKey?: string;
  bearer?: string;
  userAgent?: string;
}

function sameSecret(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createContext(
  services: Services,
  signal: AbortSignal,
  ip: string,
  credentials: RequestCredentials = {},
): GraphQLContext {
  return {
    services,
    signal,
    ip,
    loaders: createLoaders(services, signal),
    isAdmin: sameSecret(credentials.adminKey, services.config.send.adminApiKey),
    bearer: credentials.bearer,
    userAgent: credentials.userAgent,
  };
}

/** A cookie value that is not valid percent-encoding presents no key (REST answers 401 the same way). */
function decodeCookie(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** Reads the admin key and bearer token from HTTP-style headers (also the WebSocket upgrade request). */
export function credentialsFrom(headers: Record<string, string | string[] | undefined>): RequestCredentials {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const cookie = header("cookie")
    ?.split(";")
    .map((c) => c.trim().split("="))
    .find(([name]) => name === "glider_admin_key")?.[1];
  const authorization = header("authorization");
  return {
    adminKey: header("x-admin-key") ?? (cookie ? decodeCookie(cookie) : undefined),
    bearer: authorization?.startsWith("Bearer ") ? authorization.slice(7) : undefined,
    userAgent: header("user-agent"),
  };
}
