import { GraphQLError } from "graphql";
import { isGliderError } from "../services/errors.js";

/** Domain errors reach clients with `extensions.code`; anything else is masked as an internal error. */
export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (isGliderError(original)) {
    return new GraphQLError(original.message, {
      extensions: { code: original.code, ...(original.details ? { details: original.details } : {}) },
    });
  }
  if (original instanceof GraphQLError && original.extensions?.code) return original;
  if (error instanceof GraphQLError && !error.originalError) return error;
  return new GraphQLError(message, { extensions: { code: "internal" } });
}
