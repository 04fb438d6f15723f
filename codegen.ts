import type { CodegenConfig } from "@graphql-codegen/cli";
import { printSchema } from "graphql";
import { schema } from "./src/schema/index.js";

/**
 * Prints the Pothos schema (sorted, so every API change is a reviewable diff) and typed documents for the UI's
 * operations in src/operations. `.ci/run` regenerates both and fails when the committed output differs.
 */
const config: CodegenConfig = {
  schema: printSchema(schema),
  documents: ["src/operations/*.graphql"],
  generates: {
    "schema.graphql": { plugins: ["schema-ast"], config: { includeDirectives: false } },
    "src/generated/graphql.ts": {
      plugins: ["typescript", "typescript-operations", "typed-document-node"],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", SafeInt: "number", ID: "string" },
        avoidOptionals: { field: true, inputValue: false },
      },
    },
  },
};

export default config;
