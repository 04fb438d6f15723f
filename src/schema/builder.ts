import SchemaBuilder from "@pothos/core";
import RelayPlugin from "@pothos/plugin-relay";
import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import type { GraphQLContext } from "../resolvers/context.js";

/** The one schema builder: plugins, scalars and root types; domain types live in their own files. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    /** Byte counts beyond 2^31 (Int stops there); exact up to 2^53. */
    SafeInt: { Input: number; Output: number };
  };
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {},
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("SafeInt", SafeIntResolver);

builder.queryType({});
