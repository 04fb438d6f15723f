import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildApp } from "../../src/app.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { listen, testConfig } from "../helpers/app.js";
import { loadBucketFixture } from "../helpers/bucket-fixture.js";

const ADMIN_KEY = "policy-admin-key-0123456789";
const ALLOWED = "https://ui.example.test";
const FOREIGN = "https://evil.example.test";

/** An app whose JSON log lines are kept, for the access-log assertions. */
async function appWithLog(env: Record<string, string>) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const store = createMemoryStore();
  await loadBucketFixture(store, "fixture");
  const app = await buildApp(testConfig({ LOG_LEVEL: "info", ...env }), {
    logger: pino({ level: "info" }, sink),
    overrides: { store },
  });
  const accessIps = () => lines.filter((l) => l.msg === "request").map((l) => l.ip);
  return { app, lines, accessIps };
}

describe("configuration of the browser policy, proxies and production defaults", () => {
  it("production: no introspection, no demo seed, no GraphiQL, unless asked", () => {
    const prod = loadConfig({ NODE_ENV: "production" });
    expect(prod.http.introspection).toBe(false);
    expect(prod.deltaglider.seedDemo).toBe(false);
    expect(prod.graphiql).toBe(false);
    const asked = loadConfig({ NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true", DEMO_SEED: "true" });
    expect(asked.http.introspection).toBe(true);
    expect(asked.deltaglider.seedDemo).toBe(true);
    const dev = loadConfig({});
    expect([dev.http.introspection, dev.deltaglider.seedDemo, dev.graphiql]).toEqual([true, true, true]);
    expect(loadConfig({ SEED_DEMO: "false" }).deltaglider.seedDemo).toBe(false);
  });

  it("reads CORS_ORIGINS and TRUST_PROXY, refusing bad entries by name", () => {
    expect(loadConfig({}).http).toMatchObject({ corsOrigins: [], trustProxy: false });
    expect(loadConfig({ CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` }).http.corsOrigins).toEqual([
      ALLOWED,
      "http://localhost:5173",
    ]);
    expect(loadConfig({ TRUST_PROXY: "2" }).http.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 127.0.0.1" }).http.trustProxy).toEqual(["10.0.0.0/8", "127.0.0.1"]);
    expect(() => loadConfig({ CORS_ORIGINS: "https://ui.example.test/path" })).toThrow(
      /^invalid configuration: CORS_ORIGINS: /,
    );
    expect(() => loadConfig({ TRUST_PROXY: "10.0.0.0/40" })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: "yes please" })).toThrow(/^invalid configuration: TRUST_PROXY: /);
  });
});

describe("one CORS and cookie policy for REST and GraphQL", () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app } = await appWithLog({ SEND_ADMIN_API_KEY: ADMIN_KEY, CORS_ORIGINS: ALLOWED }));
    base = await listen(app);
  });
  afterAll(() => app.close());

  for (const url of ["/graphql", "/api/buckets"]) {
    it(`${url}: a listed origin gets CORS with credentials, any other none`, async () => {
      const preflight = (origin: string) =>
        app.inject({
          method: "OPTIONS",
          url,
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
          },
        });
      const ok = await preflight(ALLOWED);
      expect(ok.statusCode).toBe(204);
      expect(ok.headers["access-control-allow-origin"]).toBe(ALLOWED);
      expect(ok.headers["access-control-allow-credentials"]).toBe("true");
      const denied = await preflight(FOREIGN);
      expect(denied.headers["access-control-allow-origin"]).toBeUndefined();
      expect(denied.headers["access-control-allow-credentials"]).toBeUndefined();

      const method = url === "/graphql" ? "POST" : "GET";
      const payload = url === "/graphql" ? { query: "{ __typename }" } : undefined;
      const simple = await app.inject({ method, url, headers: { origin: FOREIGN }, payload });
      expect(simple.statusCode).toBe(200);
      expect(simple.headers["access-control-allow-origin"]).toBeUndefined();
      expect(simple.headers["access-control-allow-credentials"]).toBeUndefined();
    });
  }

  it("sets the admin cookie HttpOnly, SameSite=Strict, Secure only over HTTPS", async () => {
    const res = await app.inject({ method: "POST", url: "/api/admin/session", headers: { "x-admin-key": ADMIN_KEY } });
    expect(res.statusCode).toBe(204);
    const cookie = String(res.headers["set-cookie"]);
    expect(cookie).toMatch(/^glider_admin_key=/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).not.toContain("Secure");
    const refused = await app.inject({
      method: "POST",
      url: "/api/admin/session",
      headers: { "x-admin-key": "wrong-key-wrong-key" },
    });
    expect(refused.statusCode).toBe(401);
  });

  it("refuses a cookie-authenticated state change from a foreign origin, on both front doors", async () => {
    const cookie = `glider_admin_key=${encodeURIComponent(ADMIN_KEY)}`;
    const create = (headers: Record<string, string>) =>
      app.inject({
        method: "POST",
        url: "/api/admin/tokens/create",
        headers: { cookie, ...headers },
        payload: { label: "x" },
      });
    const foreign = await create({ origin: FOREIGN });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe("forbidden");
    expect((await create({ referer: `${FOREIGN}/page` })).statusCode).toBe(403);
    // The server's own origin, an allowed one, and non-browser clients (no Origin) pass.
    const host = new URL(base).host;
    expect((await create({ host, origin: base })).statusCode).toBe(201);
    expect((await create({ origin: ALLOWED })).statusCode).toBe(201);
    expect((await create({})).statusCode).toBe(201);
    // A header-authenticated call is no CSRF risk: no cookie, no origin check.
    const header = await app.inject({
      method: "POST",
      url: "/api/admin/tokens/create",
      headers: { "x-admin-key": ADMIN_KEY, origin: FOREIGN },
      payload: { label: "y" },
    });
    expect(header.statusCode).toBe(201);

    const mutation = {
      query: `mutation { createToken(input: { label: "z" }) { ... on CreateTokenPayload { secret } } }`,
    };
    const gqlForeign = await app.inject({
      method: "POST",
      url: "/graphql",
      headers: { cookie, origin: FOREIGN },
      payload: mutation,
    });
    expect(gqlForeign.statusCode).toBe(403);
    const gqlOwn = await app.inject({
      method: "POST",
      url: "/graphql",
      headers: { cookie, host, origin: base },
      payload: mutation,
    });
    expect(gqlOwn.statusCode).toBe(200);
    expect(gqlOwn.json().errors).toBeUndefined();
    expect(gqlOwn.json().data.createToken.secret).toEqual(expect.any(String));
  });

  it("refuses a WebSocket upgrade carrying the admin cookie from a foreign origin", async () => {
    const open = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${base.replace("http", "ws")}/graphql`, "graphql-transport-ws", {
          headers: { cookie: `glider_admin_key=${encodeURIComponent(ADMIN_KEY)}`, origin },
        });
        ws.once("open", () => {
          ws.close();
          resolve(101);
        });
        ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.once("error", () => {});
      });
    expect(await open(FOREIGN)).toBe(403);
    expect(await open(base)).toBe(101);
  });
});

describe("production GraphQL", () => {
  it("refuses introspection unless GRAPHQL_INTROSPECTION=true", async () => {
    const query = { query: "{ __schema { queryType { name } } }" };
    for (const [env, allowed] of [
      [{ NODE_ENV: "production" }, false],
      [{ NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true" }, true],
    ] as const) {
      const app = await buildApp(loadConfig({ STORAGE: "memory", LOG_LEVEL: "silent", SEED_DEMO: "false", ...env }), {
        logger: pino({ level: "silent" }),
      });
      const res = await app.inject({ method: "POST", url: "/graphql", payload: query });
      const page = await app.inject({ method: "GET", url: "/graphql", headers: { accept: "text/html" } });
      await app.close();
      if (allowed) expect(res.json().data.__schema.queryType.name).toBe("Query");
      else expect(res.json().errors?.[0]?.message).toMatch(/introspection/i);
      // GraphiQL is off in production either way.
      expect(page.body).not.toContain("GraphiQL");
    }
  });
});

describe("TRUST_PROXY", () => {
  const forwarded = { "x-forwarded-for": "203.0.113.7" };

  it("off by default: X-Forwarded-For is ignored by the access log and the rate limit", async () => {
    const { app, accessIps } = await appWithLog({ OBJECTS_RATE_LIMIT: "1" });
    const first = await app.inject({ url: "/api/objects?bucket=fixture", headers: forwarded });
    const second = await app.inject({
      url: "/api/objects?bucket=fixture",
      headers: { "x-forwarded-for": "198.51.100.9" },
    });
    await app.close();
    expect(first.statusCode).toBe(200);
    // Same socket address: the second client is the same one to the limiter, whatever the header says.
    expect(second.statusCode).toBe(429);
    expect(accessIps()).toEqual(["127.0.0.1", "127.0.0.1"]);
  });

  for (const trust of ["1", "127.0.0.1/32"]) {
    it(`TRUST_PROXY=${trust}: the client address comes from X-Forwarded-For (log and rate limit)`, async () => {
      const { app, accessIps } = await appWithLog({ OBJECTS_RATE_LIMIT: "1", TRUST_PROXY: trust });
      const a = await app.inject({ url: "/api/objects?bucket=fixture", headers: forwarded });
      const b = await app.inject({
        url: "/api/objects?bucket=fixture",
        headers: { "x-forwarded-for": "198.51.100.9" },
      });
      const again = await app.inject({ url: "/api/objects?bucket=fixture", headers: forwarded });
      await app.close();
      expect([a.statusCode, b.statusCode, again.statusCode]).toEqual([200, 200, 429]);
      expect(accessIps()).toEqual(["203.0.113.7", "198.51.100.9", "203.0.113.7"]);
    });
  }

  it("a CIDR list that does not contain the peer trusts nothing", async () => {
    const { app, accessIps } = await appWithLog({ TRUST_PROXY: "10.0.0.0/8" });
    await app.inject({ url: "/health", headers: forwarded });
    await app.close();
    expect(accessIps()).toEqual(["127.0.0.1"]);
  });

  it("anonymised mode hashes the resolved client address, not the proxy's", async () => {
    const secret = "policy-ip-hash-secret-0123456789";
    const { app, accessIps } = await appWithLog({
      TRUST_PROXY: "1",
      SEND_ANONYMISE_IPS: "true",
      SEND_IP_HASH_SECRET: secret,
    });
    await app.inject({ url: "/health", headers: forwarded });
    const expected = app.services.audit.displayIp("203.0.113.7");
    await app.close();
    const [logged] = accessIps();
    expect(logged).toBe(expected);
    expect(logged).not.toBe(app.services.audit.displayIp("127.0.0.1"));
    expect(JSON.stringify(logged)).not.toContain("203.0.113.7");
    expect(logged).toMatch(/^[0-9a-f]{64}$/);
  });
});
