import type { FastifyInstance } from "fastify";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { GliderError } from "../../src/services/errors.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { buildTestApp, listen } from "../helpers/app.js";

describe("HTTP server", () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(() => app.close());

  it("answers liveness and readiness", async () => {
    const health = await app.inject({ method: "GET", url: "/health" });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: "ok" });
    const ready = await app.inject({ method: "GET", url: "/ready" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      ready: true,
      checks: {
        storage: { ok: true, backend: "memory", conditional_writes: { if_none_match: true, if_match: true } },
      },
    });
  });

  it("serves GraphQL over POST and GraphiQL to browsers", async () => {
    const post = await app.inject({
      method: "POST",
      url: "/graphql",
      payload: { query: "{ __typename health { status ready storageBackend } }" },
    });
    expect(post.statusCode).toBe(200);
    expect(post.json()).toEqual({
      data: { __typename: "Query", health: { status: "ok", ready: true, storageBackend: "memory" } },
    });
    const page = await app.inject({ method: "GET", url: "/graphql", headers: { accept: "text/html" } });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain("GraphiQL");
  });

  it("exposes Prometheus metrics counting requests and storage calls", async () => {
    await app.inject({ method: "GET", url: "/ready" });
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/glider_http_requests_total\{method="GET",route="\/ready",status="200"\} \d+/);
    expect(metrics.body).toMatch(/glider_storage_calls_total\{backend="memory",operation="\w+",outcome="ok"\} \d+/);
    expect(metrics.body).toContain("glider_storage_call_duration_seconds_bucket");
  });

  it("answers unknown routes with the error envelope", async () => {
    const res = await app.inject({ method: "GET", url: "/api/nope" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: "not_found", message: "no route for GET /api/nope", details: {} } });
  });
});

describe("readiness when storage is down", () => {
  it("reports 503 with the storage error", async () => {
    const store = createMemoryStore();
    store.ping = async () => {
      throw new GliderError("storage_unavailable", "connection refused");
    };
    // READY_FRESH_MS=0: every check probes (otherwise the start-up calls that did succeed would count).
    const app = await buildTestApp({ READY_FRESH_MS: "0" }, { store });
    const ready = await app.inject({ method: "GET", url: "/ready" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      ready: false,
      checks: { storage: { ok: false, error: "connection refused" } },
    });
    expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    await app.close();
  });
});

describe("GraphQL over WebSocket (graphql-ws) on the same path", () => {
  it("runs an operation through the graphql-transport-ws protocol", async () => {
    const app = await buildTestApp();
    const base = await listen(app);
    const client = createClient({ url: `${base.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, lazy: true });
    const result = await new Promise<unknown>((resolve, reject) => {
      let value: unknown;
      client.subscribe(
        { query: "{ health { status storageBackend } }" },
        { next: (v) => (value = v), error: reject, complete: () => resolve(value) },
      );
    });
    expect(result).toEqual({ data: { health: { status: "ok", storageBackend: "memory" } } });
    await client.dispose();
    await app.close();
  });
});
