import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen } from "../../helpers/app.js";
import { gql } from "../../helpers/graphql.js";
import { buildSendApp } from "../send/helpers.js";

/** Malformed credentials and ids are credential or input errors on both front doors, never `internal`. */
describe("malformed cookies, ids and headers", () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app } = await buildSendApp());
    base = await listen(app);
  });
  afterAll(() => app.close());

  const badCookie = { cookie: "glider_admin_key=%E0%A4%A" };

  it("a malformed admin cookie leaves public GraphQL operations working (was: every operation internal)", async () => {
    const res = await gql<{ health: { status: string } }, never>(base, "{ health { status } }", undefined, badCookie);
    expect(res.errors).toBeUndefined();
    expect(res.data?.health.status).toBe("ok");
  });

  it("a malformed admin cookie is a credential error for admin GraphQL operations", async () => {
    const res = await gql(base, "{ stats { tokens } }", undefined, badCookie);
    const codes = (res.errors ?? []).map((e) => e.extensions?.code);
    expect(codes).toContain("unauthorized");
  });

  it("a malformed admin cookie is 401 on REST", async () => {
    const res = await fetch(`${base}/api/admin/tokens/list`, { headers: badCookie });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
  });

  it.each(["%%%", "", "!!!", "Zm9v", Buffer.from("StoredObject:").toString("base64"), "a".repeat(5000)])(
    "node(id: %#) is an input error or null, never internal",
    async (id) => {
      const res = await gql<{ node: unknown }, { id: string }>(base, "query ($id: ID!) { node(id: $id) { id } }", {
        id,
      });
      for (const error of res.errors ?? []) expect(error.extensions?.code).not.toBe("internal");
      if (!res.errors) expect(res.data?.node).toBeNull();
    },
  );

  it.each([
    ["authorization", "Bearer"],
    ["authorization", "Bearer %E0%A4%A"],
    ["x-admin-key", "%E0%A4%A"],
    ["cookie", "glider_admin_key"],
    ["cookie", "=;;==;glider_admin_key=="],
  ])("header %s: %j is never a 5xx on either door", async (name, value) => {
    const rest = await fetch(`${base}/api/admin/tokens/list`, { headers: { [name]: value } });
    expect(rest.status).toBeLessThan(500);
    const graph = await gql(base, "{ health { status } }", undefined, { [name]: value });
    for (const error of graph.errors ?? []) expect(error.extensions?.code).not.toBe("internal");
  });
});
