import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { startBrowseApp } from "../helpers/browse-app.js";
import { gql } from "../helpers/graphql.js";

const ADMIN_KEY = "differential-admin-key-0123456789";

/**
 * graphql-jit stays only while it answers exactly as graphql-js: the same corpus of operations runs against two apps
 * over one store, one with GRAPHQL_JIT=true (queries and mutations compiled), one with GRAPHQL_JIT=false.
 */
const CORPUS: { name: string; query: string; variables?: Record<string, unknown>; admin?: boolean }[] = [
  { name: "literal argument", query: `{ bucket(name: "fixture") { id name pending savingsPct } }` },
  {
    name: "variable argument",
    query: `query Q($b: String!) { bucket(name: $b) { id name } }`,
    variables: { b: "fixture" },
  },
  { name: "missing bucket is null", query: `{ bucket(name: "nope") { name } }` },
  {
    name: "connection with aliases, nested fragments and directives",
    query: `query P($first: Int, $withSha: Boolean!, $skipName: Boolean!) {
      b: bucket(name: "fixture") {
        one: objects(first: 2, sort: NAME_ASC) { ...Page }
        two: objects(first: $first, sort: SIZE_DESC, prefix: "") {
          totalCount commonPrefixes
          edges { cursor node { key name @skip(if: $skipName) sha256 @include(if: $withSha) } }
        }
      }
    }
    fragment Page on ObjectConnection { pageInfo { hasNextPage endCursor } edges { node { ...Obj } } }
    fragment Obj on StoredObject { id key originalBytes storedBytes compressed savingsPct modified acceptRanges }`,
    variables: { first: 3, withSha: true, skipName: true },
  },
  {
    name: "fragments on interfaces, inline fragments that do not match",
    query: `query N($id: ID!) {
      a: node(id: $id) { __typename id ... on Bucket { name } }
      b: node(id: $id) { __typename id ... on StoredObject { key } }
      c: node(id: $id) { ...NodeFields ... on Token { label } }
      d: nodes(ids: [$id, $id]) { ... on Node { id } ... on Transfer { status } }
    }
    fragment NodeFields on Node { id __typename }`,
    variables: { id: "QnVja2V0OmZpeHR1cmU=" },
  },
  { name: "unknown node id", query: `{ node(id: "QnVja2V0Om5vcGU=") { id } }` },
  { name: "malformed node id", query: `{ node(id: "%%%") { id } }` },
  { name: "every bucket", query: `{ buckets { __typename id name objectCount pending computedAt } }` },
  { name: "health", query: `{ health { status storageBackend } }` },
  { name: "introspection of a type", query: `{ __type(name: "JobState") { kind enumValues { name } } }` },
  { name: "admin field without the key", query: `{ stats { transfers { total } } }` },
  { name: "admin field with the key", query: `{ stats { tokens { total } } }`, admin: true },
  {
    name: "object by key, variables and literal mixed",
    query: `query O($k: String!) { object(bucket: "fixture", key: $k) { key __typename } missing: object(bucket: "fixture", key: "no/such") { key } }`,
    variables: { k: "releases/app-1.0.0.zip" },
  },
  { name: "mutation error", query: `mutation { computeSavings(input: { bucket: "nope" }) { job { taskId } } }` },
  { name: "validation error", query: `{ bucket(name: "fixture") { nope } }` },
  { name: "__typename on roots", query: `query { __typename } ` },
];

describe("graphql-jit agrees with graphql-js on a corpus of operations", () => {
  let jit: { app: FastifyInstance; base: string };
  let plain: { app: FastifyInstance; base: string };
  beforeAll(async () => {
    const store = createMemoryStore();
    const env = { SEND_ADMIN_API_KEY: ADMIN_KEY };
    jit = await startBrowseApp(store, { ...env, GRAPHQL_JIT: "true" });
    plain = await startBrowseApp(store, { ...env, GRAPHQL_JIT: "false" });
  });
  afterAll(async () => {
    await jit.app.close();
    await plain.app.close();
  });

  for (const operation of CORPUS) {
    it(operation.name, async () => {
      const headers: Record<string, string> = operation.admin ? { "x-admin-key": ADMIN_KEY } : {};
      const [a, b] = await Promise.all(
        [jit, plain].map(({ base }) => gql(base, operation.query, operation.variables, headers)),
      );
      expect(a).toEqual(b);
      // The corpus means something: every answer carries data or an error.
      expect(a.data !== undefined || a.errors !== undefined).toBe(true);
    });
  }
});
