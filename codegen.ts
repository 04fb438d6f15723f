import type { CodegenConfig } from "@graphql-codegen/cli";
import { printSchema } from "graphql";
import { schema } from "./src/schema/index.js";

/**
 * Prints the Pothos schema (sorted, so every API change is a reviewable diff) and, once UI operations exist in
 * src/operations, their typed documents. `.ci/run` regenerates and fails when the committed output differs.
 */
const config: CodegenConfig = {
  schema: printSchema(schema),
  generates: {
    "schema.graphql": { plugins: ["schema-ast"], config: { includeDirectives: false } },
  },
};

export default config;
