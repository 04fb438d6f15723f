import { GliderError, isGliderError } from "../services/errors.js";
import { builder } from "./builder.js";

/**
 * Expected failures as data (@pothos/plugin-errors): a field that lists `errors` returns a union of its payload and
 * `DomainError`, so clients match on `__typename` instead of parsing `extensions.code`. Only `GliderError`s are
 * caught (builder.ts' defaultTypes); anything else stays a masked GraphQL error.
 */
const ErrorInterface = builder.interfaceRef<GliderError>("Error").implement({
  description: "An expected failure, returned as data",
  fields: (t) => ({
    message: t.exposeString("message", { description: "What went wrong, for people" }),
    code: t.string({ description: "The stable error code, as REST's `error.code`", resolve: (e) => e.code }),
  }),
});

builder.objectType(GliderError, {
  name: "DomainError",
  description: "A domain failure (wrong secret, unknown or gone transfer, …) with REST's error code",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => isGliderError(value),
});
