import { GraphQLError } from "graphql";
import { isGliderError } from "../services/errors.js";

interface GraphQLErrorLike {
  originalError?: unknown;
  extensions?: Record<string, unknown>;
  message: string;
}

/** Duck-typed: graphql may be loaded as two module copies (ESM and CJS), which defeats `instanceof`. */
function isGraphQLErrorLike(error: unknown): error is GraphQLErrorLike {
  return typeof error === "object" && error !== null && (error as Error).name === "GraphQLError";
}

/** Pothos' own rejection of an argument at execution time (by name: Pothos may be loaded twice, as graphql is). */
export function isArgumentRejection(error: unknown): error is Error {
  return error instanceof Error && error.name === "PothosValidationError";
}

/** Domain errors reach clients with `extensions.code`; anything else is masked as an internal error. */
export function maskError(error: unknown, message: string): Error {
  let original = error;
  while (isGraphQLErrorLike(original) && original.originalError) original = original.originalError;
  if (isGliderError(original)) {
    return new GraphQLError(original.message, {
      extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) },
    });
  }
  // Pothos rejects arguments at execution time (a global id of another type, a negative `first`): the caller's
  // mistake, as a malformed id is (builder.ts), so `invalid_request` rather than a masked internal error.
  if (isArgumentRejection(original)) {
    return new GraphQLError(original.message, { extensions: { code: "invalid_request" } });
  }
  // Errors graphql itself raised (validation, parsing, armor limits) are safe to show as they are.
  if (isGraphQLErrorLike(original) && !original.originalError) return original as unknown as Error;
  return new GraphQLError(message, { extensions: { code: "internal" } });
}
