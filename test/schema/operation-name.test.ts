import { describe, expect, it } from "vitest";
import { buildTestApp } from "../helpers/app.js";

/** One document, several operations (GraphiQL's editor, the README's example block): `operationName` picks one. */
const DOCUMENT = `query Health { health { status } }
mutation Touch { __typename }
query Name { __typename }`;

describe.each(["true", "false"])("operationName selects the operation (GRAPHQL_JIT=%s)", (jit) => {
  it("runs the named operation of a multi-operation document, also after another one of it ran", async () => {
    const app = await buildTestApp({ GRAPHQL_JIT: jit });
    try {
      const run = async (operationName: string) =>
        (await app.inject({ method: "POST", url: "/graphql", payload: { query: DOCUMENT, operationName } })).json();
      // The same text each time: the parsed document (and graphql-jit's compiled form) comes from a cache.
      expect(await run("Health")).toEqual({ data: { health: { status: "ok" } } });
      expect(await run("Touch")).toEqual({ data: { __typename: "Mutation" } });
      expect(await run("Name")).toEqual({ data: { __typename: "Query" } });
      expect(await run("Health")).toEqual({ data: { health: { status: "ok" } } });
    } finally {
      await app.close();
    }
  });
});
