import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { testConfig } from "../helpers/app.js";
import { loadBucketFixture } from "../helpers/bucket-fixture.js";
import { findOperation, validateResponse } from "../helpers/openapi.js";

/** Every response of a scripted session is checked against openapi.yaml, so the document cannot drift. */
describe("openapi.yaml matches what the server does", () => {
  let app: FastifyInstance;
  const routes: { method: string; url: string }[] = [];
  const problems: string[] = [];
  let checked = 0;

  beforeAll(async () => {
    const store = createMemoryStore();
    await loadBucketFixture(store, "fixture");
    app = await buildApp(testConfig({ OBJECTS_RATE_LIMIT: "0", SEND_ADMIN_API_KEY: "admin-key-0123456789abcdef" }), {
      logger: pino({ level: "silent" }),
      overrides: { store },
    });
    await app.ready();
    routes.push(...app.routeTable);
  });
  afterAll(() => app.close());

  async function call(method: string, url: string, payload?: unknown, headers?: Record<string, string>) {
    const res = await app.inject({ method: method as "GET", url, payload: payload as string, headers });
    const type = String(res.headers["content-type"] ?? "");
    const body = type.includes("json") ? res.json() : res.body;
    problems.push(...validateResponse(method, url, res.statusCode, type, body));
    checked++;
    return { status: res.statusCode, body };
  }

  it("describes every registered REST route", () => {
    expect(routes.length).toBeGreaterThan(20);
    const undocumented = routes
      .filter((r) => r.method !== "HEAD" && r.method !== "OPTIONS" && !r.url.startsWith("/graphql") && r.url !== "*")
      .map((r) => {
        const concrete = r.url.replace(/:([a-zA-Z_]+)/g, "x-$1");
        const forms = concrete.endsWith("*")
          ? [concrete.replace(/\*$/, "k/metadata"), concrete.replace(/\*$/, "k")]
          : [concrete];
        return forms.some((form) => findOperation(r.method, form)) ? undefined : `${r.method} ${r.url}`;
      })
      .filter(Boolean);
    expect(undocumented).toEqual([]);
  });

  it("validates real responses of the browse routes, happy and failing", async () => {
    await call("GET", "/health");
    await call("GET", "/api/health");
    await call("GET", "/ready");
    await call("GET", "/metrics");
    await call("GET", "/api/buckets");
    await call("POST", "/api/buckets/fixture/compute-savings");
    await call("POST", "/api/buckets/nope-bucket/compute-savings");
    await call("GET", "/api/objects?bucket=fixture&sort=name_asc&limit=2");
    await call("GET", "/api/objects?bucket=fixture&prefix=apps/viewer/");
    await call("GET", "/api/objects?bucket=fixture&limit=0");
    await call("GET", "/api/objects?bucket=nope-bucket");
    await call("GET", "/api/objects/fixture/apps/viewer/viewer-4.0.1.zip/metadata");
    await call("GET", "/api/objects/fixture/nope.zip/metadata");
    const prep = await call("POST", "/api/download/prepare", { bucket: "fixture", key: "README.txt" });
    await call("GET", `/api/download/${(prep.body as { download_token: string }).download_token}`);
    await call("GET", "/api/download/forged.token");
    await call("POST", "/api/download/prepare", { bucket: "fixture" });
    await call("POST", "/api/upload?bucket=fixture&key=up/a.txt", "hello", {
      "content-type": "application/octet-stream",
    });
    await call("POST", "/api/upload", "x", { "content-type": "application/octet-stream" });
    await call("DELETE", "/api/objects/fixture/up/a.txt");
    await call("DELETE", "/api/objects/fixture/up/a.txt");
    expect(checked).toBeGreaterThan(15);
    expect(problems).toEqual([]);
  });
});
