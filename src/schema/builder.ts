import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import RelayPlugin, { decodeGlobalID } from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { GraphQLScalarType } from "graphql";
import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import { adminRefusal, type GraphQLContext } from "../resolvers/context.js";
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
  // Scope-auth before errors: an admin refusal stays a GraphQL error (`unauthorized`), as for every other field.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin],
  // Only domain errors become typed results; listing `Error` would hand every thrown message to clients.
  errors: { defaultTypes: [GliderError] },
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({ admin: ctx.isAdmin }),
    // The admin check's own error (REST's): `forbidden` when no admin key is configured, else `unauthorized`.
    unauthorizedError: (_parent, ctx) => adminRefusal(ctx),
  },
  relay: {
    clientMutationId: "omit",
    firstArgOptions: { description: "Page size: at most this many edges after `after`" },
    afterArgOptions: { description: "Start after this cursor (an edge's `cursor` or `pageInfo.endCursor`)" },
    lastArgOptions: { description: "Page size from the end: at most this many edges before `before`" },
    beforeArgOptions: { description: "End before this cursor (an edge's `cursor` or `pageInfo.startCursor`)" },
    cursorType: "String",
    nodeQueryOptions: {
      nullable: true,
      description: "Any object by its global id (Bucket, StoredObject, Transfer, Token); null when it does not exist",
      args: { id: { description: "A global id, as returned in any node's `id`" } },
    },
    nodesQueryOptions: {
      // One unknown id nulls its own entry (with its error), not the whole list.
      nullable: { list: false, items: true },
      description: "Several objects by global id, in the order asked; null entries for ids that resolve to nothing",
      args: { ids: { description: "Global ids, as returned in nodes' `id`" } },
    },
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

/**
 * graphql-scalars' DateTime, serialised straight to its ISO string. Its own `serialize` returns a Date, which
 * JSON.stringify turns into the same string through `toJSON`, off V8's fast path; with its validation a 200-row
 * objects page spent more than a third of its CPU on `modified`. The JSON is byte for byte the same.
 */
const isoStrings = new WeakMap<Date, string>();
const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  serialize(value) {
    // Our resolvers return valid Dates, mostly the same instances page after page (listing entries are cached):
    // format each once (graphql-scalars' checks plus toISOString cost microseconds a value).
    if (value instanceof Date) {
      let iso = isoStrings.get(value);
      if (iso === undefined && !Number.isNaN(value.getTime())) {
        iso = value.toISOString();
        isoStrings.set(value, iso);
      }
      if (iso !== undefined) return iso;
    }
    const out = DateTimeResolver.serialize(value);
    return out instanceof Date ? out.toISOString() : out;
  },
});

builder.addScalarType("DateTime", DateTime);
builder.addScalarType("SafeInt", SafeIntResolver);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
