import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { buildApp } from "../../src/app.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { testConfig } from "./app.js";
import { loadBucketFixture } from "./bucket-fixture.js";

/** A listening app over `store` with the DeltaGlider fixture loaded as bucket `fixture`. */
export async function startBrowseApp(
  store: ObjectStore,
  env: Record<string, string> = {},
  overrides: { now?: () => number } = {},
): Promise<{ app: FastifyInstance; base: string }> {
  if (!(await store.bucketExists("fixture"))) await loadBucketFixture(store, "fixture");
  const app = await buildApp(
    testConfig({ OBJECTS_RATE_LIMIT: "0", DOWNLOAD_TOKEN_SECRET: "test-secret-0123456789", ...env }),
    { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }), overrides: { store, ...overrides } },
  );
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return { app, base: `http://127.0.0.1:${address.port}` };
}

export async function getJson(base: string, path: string, init?: RequestInit) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export function postJson(base: string, path: string, body: unknown) {
  return getJson(base, path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
