import { type Credentials, type HeaderBag, readCredentials, withConnectionParams } from "../services/credentials.js";
import { GliderError, isGliderError } from "../services/errors.js";
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
  /** The caller presented the admin API key (header `x-admin-key` or cookie `glider_admin_key`); checked on first read. */
  readonly isAdmin: boolean;
  /** Why the admin scope is refused, from `tokens.verifyAdminKey` (REST's check): `unauthorized` or `forbidden`. */
  readonly adminDenial?: GliderError;
  /** What the request presented (services/credentials.ts, the reader REST uses too). */
  credentials: Credentials;
}

/** The admin check of both front doors (`tokens.verifyAdminKey`), as a value: undefined when the key is good. */
function adminDenial(services: Services, adminKey: string | undefined): GliderError | undefined {
  try {
    services.tokens.verifyAdminKey(adminKey);
    return undefined;
  } catch (error) {
    if (isGliderError(error)) return error;
    throw error;
  }
}

export function createContext(
  services: Services,
  signal: AbortSignal,
  ip: string,
  credentials: Credentials = {},
): GraphQLContext {
  // The admin check runs only when an admin-scoped field asks: a refusal is a GliderError (a captured stack), too
  // dear to build on every public query.
  let checked: { denial: GliderError | undefined } | undefined;
  const check = () => {
    checked ??= { denial: adminDenial(services, credentials.adminKey) };
    return checked.denial;
  };
  return {
    services,
    signal,
    ip,
    loaders: createLoaders(services, signal),
    get isAdmin() {
      return check() === undefined;
    },
    get adminDenial() {
      return check();
    },
    credentials,
  };
}

/**
 * Reads the credentials from HTTP-style headers (also the WebSocket upgrade request); over WebSocket, those in
 * graphql-ws' `connectionParams` take precedence, since browsers cannot set upgrade headers.
 */
export function credentialsFrom(headers: HeaderBag, connectionParams?: unknown): Credentials {
  return withConnectionParams(readCredentials({ headers }), connectionParams);
}

/** The refusal of an admin-scoped field: the admin check's own error, so GraphQL and REST give the same code. */
export function adminRefusal(ctx: GraphQLContext): GliderError {
  return ctx.adminDenial ?? new GliderError("unauthorized", "this field needs the admin API key");
}
