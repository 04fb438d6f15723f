import { type Static, type TSchema, Type } from "typebox";
import { type ErrorCode, STATUS_BY_CODE } from "../services/errors.js";

// Building blocks of the REST contract. Route schemas are TypeBox: fastify validates requests with them, serialises
// answers through them (fast-json-stringify drops any property a schema does not name), types the handlers from them
// (the TypeBox type provider), and @fastify/swagger prints them as openapi.yaml (`npm run openapi`).

/** `T` or null, written as OpenAPI 3.1 writes it (`type: [T, "null"]`). */
export function Nullable<T extends TSchema & { type: string }>(schema: T, options: { description?: string } = {}) {
  return Type.Unsafe<Static<T> | null>({ ...schema, ...options, type: [schema.type, "null"] });
}

/** An object with any keys, each holding `T` (counts by status, string metadata). */
export function Dict<T extends TSchema>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<Record<string, Static<T>>>({ type: "object", additionalProperties: values, ...options });
}

/** A JSON object whose members the contract leaves open (event data, error details); serialised as it is. */
export const AnyObject = Type.Unsafe<Record<string, unknown>>({ type: "object", additionalProperties: true });

/** `schema` with a description (a response's description in openapi.yaml). */
export function described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}

/** One of fixed strings, as a plain `enum` (cheaper to serialise than a union of literals, and reads better). */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });
}

export const DateTime = Type.String({ format: "date-time" });

/** A byte stream (uploads, downloads): described, never parsed nor serialised by a schema. */
export const Binary = Type.Unsafe<unknown>({ type: "string", format: "binary" });

/** The error envelope: every 4xx/5xx REST answers has this shape, whatever its code (src/rest/errors.ts). */
function errorEnvelope(codes: readonly ErrorCode[], description: string) {
  return Type.Object(
    {
      error: Type.Object({
        code: Type.Unsafe<ErrorCode>({ type: "string", enum: [...codes] }),
        message: Type.String(),
        details: AnyObject,
      }),
    },
    { description },
  );
}

export type ErrorEnvelopeSchema = ReturnType<typeof errorEnvelope>;

/**
 * The error responses of a route: the codes its handler, hooks and services can answer with, grouped by the status
 * the one table (STATUS_BY_CODE) gives them. `internal` (500) is always there: anything unexpected ends as it.
 */
export function errorResponses(codes: readonly ErrorCode[]): Record<number, ErrorEnvelopeSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set<ErrorCode>([...codes, "internal"])) {
    const status = STATUS_BY_CODE[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => {
        const sorted = list.sort();
        return [status, errorEnvelope(sorted, `Error: ${sorted.join(", ")}`)];
      }),
  );
}

// Code groups several routes share; each route lists what applies to it.

/** Refused by schema validation, or by the service's own input checks. */
export const INPUT: readonly ErrorCode[] = ["invalid_request"];
/** A JSON body: malformed or refused (400), over the body limit (413), not JSON (415). */
export const JSON_BODY: readonly ErrorCode[] = ["invalid_request", "payload_too_large", "unsupported_media_type"];
/** A state-changing request carrying the admin cookie from a foreign origin (src/http/browser-policy.ts). */
export const CROSS_ORIGIN: readonly ErrorCode[] = ["forbidden"];
/** The object store failed, throttled, is marked unhealthy, or did not answer in time. */
export const STORE: readonly ErrorCode[] = ["sdk_error", "throttled", "storage_unavailable", "timeout"];
/** Shared state (Redis: sessions, locks, rate limits) is unreachable. */
export const SHARED: readonly ErrorCode[] = ["unavailable"];
/** Browse routes resolve the request's session first: missing (with REQUIRE_SESSION) or expired. */
export const SESSION: readonly ErrorCode[] = ["session_required", ...SHARED];

/**
 * A route whose JSON body may be left out (read as `{}` by its preValidation hook): openapi.yaml then says the
 * request body is optional (src/rest/openapi.ts reads this marker; swagger alone would mark every body required).
 */
export const OPTIONAL_BODY = { "x-body-optional": true } as const;

declare module "fastify" {
  interface FastifySchema {
    "x-body-optional"?: true;
  }
  interface FastifyContextConfig {
    /** What a trailing `*` (a logical key, which may hold "/") reads as in openapi.yaml, e.g. `{key}/metadata`. */
    openapiKeyPath?: string;
    /** The request body as openapi.yaml shows it, where the route parses a stream or form itself. */
    openapiBody?: { content: Record<string, { schema: unknown }> };
  }
}

/** OpenAPI security requirements, as the routes' `schema.security` states them. */
type SecurityRequirements = { [scheme: string]: string[] }[];

export const SECURITY: Record<"none" | "optionalSession" | "senderToken" | "admin", SecurityRequirements> = {
  none: [],
  /** The browse routes: the server's store without a session, the session's connection with one. */
  optionalSession: [{}, { session: [] }],
  senderToken: [{ senderToken: [] }],
  admin: [{ adminKey: [] }, { adminCookie: [] }],
};
