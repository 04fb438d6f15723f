import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FolderDocument, type ObjectSort } from "../../src/generated/graphql.js";
import { compareKeys } from "../../src/services/storage/keys.js";
import { BACKENDS, type BackendHandle } from "../helpers/backends.js";
import { startBrowseApp } from "../helpers/browse-app.js";
import { gql } from "../helpers/graphql.js";
import { DELTAS, DIRECTS, seedLargeFolder } from "../helpers/large-folder.js";

interface Node {
  key: string;
  originalBytes: number;
  modified: string;
  compressed: boolean;
  savingsPct: number;
}

describe.each(BACKENDS.filter((b) => b.name !== "memory"))(
  "Relay pagination over 1,100 objects on $name",
  (backend) => {
    let handle: BackendHandle;
    let app: FastifyInstance;
    let base: string;
    beforeAll(async () => {
      handle = await backend.create();
      await seedLargeFolder(handle.store);
      ({ app, base } = await startBrowseApp(handle.store));
    });
    afterAll(async () => {
      await app.close();
      await handle.cleanup();
    });

    async function walk(sort: ObjectSort, compressed?: boolean) {
      const nodes: Node[] = [];
      let after: string | null | undefined;
      do {
        const { data, errors } = await gql(base, FolderDocument, {
          bucket: "fixture",
          prefix: "big/",
          first: 150,
          after,
          sort,
          compressed,
        });
        expect(errors).toBeUndefined();
        const connection = data?.bucket?.objects;
        expect(connection?.commonPrefixes).toEqual(["big/sub0/", "big/sub1/", "big/sub2/"]);
        nodes.push(...(connection?.edges.map((e) => e.node) ?? []));
        expect(connection?.pageInfo.endCursor).toBe(connection?.edges.at(-1)?.cursor ?? null);
        after = connection?.pageInfo.hasNextPage ? connection.pageInfo.endCursor : undefined;
      } while (after);
      return nodes;
    }

    const orders: [ObjectSort, (a: Node, b: Node) => number][] = [
      ["NAME_ASC", (a, b) => compareKeys(a.key, b.key)],
      ["NAME_DESC", (a, b) => compareKeys(b.key, a.key)],
      ["SIZE_ASC", (a, b) => a.originalBytes - b.originalBytes],
      ["SIZE_DESC", (a, b) => b.originalBytes - a.originalBytes],
      ["MODIFIED_ASC", (a, b) => Date.parse(a.modified) - Date.parse(b.modified)],
      ["MODIFIED_DESC", (a, b) => Date.parse(b.modified) - Date.parse(a.modified)],
      ["SAVINGS_PCT_ASC", (a, b) => a.savingsPct - b.savingsPct],
      ["SAVINGS_PCT_DESC", (a, b) => b.savingsPct - a.savingsPct],
    ];

    it.each(orders)("%s visits every object once, in order", async (sort, order) => {
      const nodes = await walk(sort);
      expect(nodes).toHaveLength(DELTAS + DIRECTS);
      expect(new Set(nodes.map((n) => n.key)).size).toBe(DELTAS + DIRECTS);
      for (let i = 1; i < nodes.length; i++) expect(order(nodes[i - 1], nodes[i])).toBeLessThanOrEqual(0);
    });

    it("filters compressed objects without gaps", async () => {
      const deltas = await walk("SIZE_DESC", true);
      expect(deltas).toHaveLength(DELTAS);
      expect(deltas.every((n) => n.compressed)).toBe(true);
      const directs = await walk("NAME_ASC", false);
      expect(directs).toHaveLength(DIRECTS);
    });
  },
);
