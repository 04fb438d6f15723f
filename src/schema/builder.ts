import SchemaBuilder from "@pothos/core";
import RelayPlugin, { decodeGlobalID } from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import type { GraphQLContext } from "../resolvers/context.js";
import { GliderError } from "../services/errors.js";

/** The one schema builder: plugins, scalars, auth scopes and root types; domain types live in their own files. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  AuthScopes: { admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    /** Byte counts beyond 2^31 (Int stops there); exact up to 2^53. */
    SafeInt: { Input: number; Output: number };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({ admin: ctx.isAdmin }),
    unauthorizedError: () => new GliderError("unauthorized", "this field needs the admin API key"),
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    nodeQueryOptions: { nullable: true },
    nodesQueryOptions: { nullable: false },
    // A malformed id is the caller's mistake (`invalid_request`), not an internal error.
    decodeGlobalID: (globalID: string) => {
      try {
        return decodeGlobalID(globalID);
      } catch {
        throw new GliderError("invalid_request", "not a valid global id", { parameter: "id" });
      }
    },
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("SafeInt", SafeIntResolver);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
