import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareKeys } from "../../../src/services/storage/keys.js";
import { BACKENDS, type BackendHandle } from "../../helpers/backends.js";
import { getJson, startBrowseApp } from "../../helpers/browse-app.js";
import { DELTAS, DIRECTS, seedLargeFolder } from "../../helpers/large-folder.js";

interface Row {
  key: string;
  original_bytes: number;
  stored_bytes: number;
  compressed: boolean;
  modified: string;
}

describe.each(BACKENDS.filter((b) => b.name !== "memory"))(
  "pagination over 1,100 logical objects on $name",
  (backend) => {
    let handle: BackendHandle;
    let app: FastifyInstance;
    let base: string;
    beforeAll(async () => {
      handle = await backend.create();
      const { store } = handle;
      await seedLargeFolder(store);
      ({ app, base } = await startBrowseApp(store));
    });
    afterAll(async () => {
      await app.close();
      await handle.cleanup();
    });

    async function walk(query: string, limit: number) {
      const rows: Row[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await getJson(
          base,
          `/api/objects?bucket=fixture&prefix=big/&limit=${limit}&${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        expect(res.status, query).toBe(200);
        expect(res.body.common_prefixes).toEqual(["big/sub0/", "big/sub1/", "big/sub2/"]);
        expect(res.body.objects.length).toBeLessThanOrEqual(limit);
        rows.push(...res.body.objects);
        cursor = res.body.cursor;
        pages++;
      } while (cursor);
      return { rows, pages };
    }

    const sorts: [string, (a: Row, b: Row) => number][] = [
      ["sort=name_asc", (a, b) => compareKeys(a.key, b.key)],
      ["sort=name_desc", (a, b) => compareKeys(b.key, a.key)],
      ["sort=size_asc", (a, b) => a.original_bytes - b.original_bytes],
      ["sort=size_desc", (a, b) => b.original_bytes - a.original_bytes],
      ["sort=modified_asc", (a, b) => Date.parse(a.modified) - Date.parse(b.modified)],
      ["sort=modified_desc", (a, b) => Date.parse(b.modified) - Date.parse(a.modified)],
      ["sort=savings_pct_desc", () => 0],
      ["sort=size&order=asc", (a, b) => a.original_bytes - b.original_bytes],
      ["sort=name", (a, b) => compareKeys(b.key, a.key)],
    ];

    it.each(sorts)("%s walks every object once, in order", async (query, order) => {
      const { rows, pages } = await walk(query, 97);
      expect(pages).toBe(Math.ceil((DELTAS + DIRECTS) / 97));
      const keys = rows.map((r) => r.key);
      expect(new Set(keys).size).toBe(DELTAS + DIRECTS);
      for (let i = 1; i < rows.length; i++)
        expect(order(rows[i - 1], rows[i]), `${query} at ${i}`).toBeLessThanOrEqual(0);
      expect(rows.every((r) => !r.key.endsWith(".delta") && !r.key.endsWith("reference.bin"))).toBe(true);
    });

    it.each([
      ["compressed=true", DELTAS, true],
      ["compressed=false", DIRECTS, false],
    ] as const)("%s filters with no gaps or duplicates", async (query, count, compressed) => {
      for (const sort of ["name_asc", "size_desc", "modified_desc"]) {
        const { rows } = await walk(`${query}&sort=${sort}`, 200);
        expect(rows).toHaveLength(count);
        expect(new Set(rows.map((r) => r.key)).size).toBe(count);
        expect(rows.every((r) => r.compressed === compressed)).toBe(true);
      }
    });

    it("searches names case-insensitively", async () => {
      const { rows } = await walk("search=NOTES%201%20", 500);
      expect(rows.map((r) => r.key).sort()).toEqual(["big/Notes 1 ü.txt"]);
      const some = await walk("search=%C3%BC.TXT&compressed=any", 1000);
      expect(some.rows).toHaveLength(DIRECTS);
    });

    it("refuses a cursor from another listing", async () => {
      const first = await getJson(base, "/api/objects?bucket=fixture&prefix=big/&limit=10&sort=name_asc");
      const other = await getJson(
        base,
        `/api/objects?bucket=fixture&prefix=big/&limit=10&sort=size_asc&cursor=${encodeURIComponent(first.body.cursor)}`,
      );
      expect(other).toMatchObject({ status: 400, body: { error: { code: "invalid_cursor" } } });
    });
  },
);
