import Fastify, { type FastifyInstance, type RouteOptions } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restPlugin } from "../../src/rest/index.js";
import { type ErrorCode, STATUS_BY_CODE } from "../../src/services/errors.js";
import { createServices, type Services } from "../../src/services/index.js";
import { testConfig } from "../helpers/app.js";

interface ResponseSchema {
  properties?: { error?: { properties?: { code?: { enum?: ErrorCode[] } } } };
}

/** Every REST route, as registered, walked through an onRoute hook: its schema is the contract openapi.yaml prints. */
describe("REST route schemas", () => {
  let services: Services;
  let app: FastifyInstance;
  const routes: RouteOptions[] = [];

  beforeAll(async () => {
    services = createServices(testConfig({ SEND_SURFACE: "both" }), pino({ level: "silent" }));
    app = Fastify();
    app.addHook("onRoute", (route) => {
      if (route.method !== "HEAD") routes.push(route);
    });
    await app.register(restPlugin, { services });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await services.close();
  });

  const label = (route: RouteOptions) => `${String(route.method)} ${route.url}`;
  const statuses = (route: RouteOptions) => Object.keys(route.schema?.response ?? {}).map(Number);

  it("registers the whole surface", () => {
    expect(routes.length).toBeGreaterThanOrEqual(37);
  });

  it("gives every route a tag, an operationId, its security, a 2xx response and a 500", () => {
    const problems = routes.flatMap((route) => {
      const schema = route.schema ?? {};
      const found: string[] = [];
      if (!schema.tags?.length) found.push("no tags");
      if (!schema.operationId) found.push("no operationId");
      if (!Array.isArray(schema.security)) found.push("no security");
      const codes = statuses(route);
      if (!codes.some((s) => s >= 200 && s < 300)) found.push("no 2xx response");
      if (!codes.includes(500)) found.push("no 500");
      return found.map((p) => `${label(route)}: ${p}`);
    });
    expect(problems).toEqual([]);
  });

  it("declares the error statuses each route's own gates can answer", () => {
    const problems = routes.flatMap((route) => {
      const schema = route.schema ?? {};
      const codes = statuses(route);
      const need: [number, string][] = [];
      // Validated input answers 400 invalid_request.
      if (schema.params || schema.querystring || schema.body) need.push([400, "validated input"]);
      // A JSON body: over the body limit, or not JSON.
      if (schema.body) need.push([413, "a JSON body"], [415, "a JSON body"]);
      // The browser policy refuses a foreign origin's state-changing request carrying the admin cookie.
      if (route.method !== "GET") need.push([403, "the origin check"]);
      // The browse routes resolve a session first; the admin routes check the key first.
      if (schema.tags?.some((t) => t === "Buckets" || t === "Objects") || route.url.startsWith("/api/download/p")) {
        need.push([401, "the session hook"]);
      }
      if (schema.tags?.includes("Send admin")) need.push([401, "the admin hook"], [403, "the admin hook"]);
      if (schema.security?.some((s) => "senderToken" in s)) need.push([401, "the sender hook"]);
      return need.filter(([status]) => !codes.includes(status)).map(([s, why]) => `${label(route)}: no ${s} (${why})`);
    });
    expect(problems).toEqual([]);
  });

  it("describes each error status with the envelope and only codes STATUS_BY_CODE maps to it", () => {
    const problems = routes.flatMap((route) =>
      Object.entries(route.schema?.response ?? {}).flatMap(([status, schema]) => {
        if (Number(status) < 400) return [];
        const codes = (schema as ResponseSchema).properties?.error?.properties?.code?.enum;
        // The readiness answer (503) is its own shape, not an error.
        if (route.url === "/ready" && status === "503") return [];
        if (!codes?.length) return [`${label(route)} ${status}: not the error envelope`];
        return codes
          .filter((code) => STATUS_BY_CODE[code] !== Number(status))
          .map((code) => `${label(route)} ${status}: ${code} is ${STATUS_BY_CODE[code]}`);
      }),
    );
    expect(problems).toEqual([]);
  });
});
