import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { buildApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import type { ServiceOverrides } from "../../src/services/index.js";

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: "test", STORAGE: "memory", LOG_LEVEL: "silent", ...env });
}

/** A built app on the given config (memory store by default), not listening; `inject` or `listen` as needed. */
export async function buildTestApp(
  env: Record<string, string> = {},
  overrides: ServiceOverrides = {},
): Promise<FastifyInstance> {
  return buildApp(testConfig(env), { logger: pino({ level: "silent" }), overrides });
}

export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return `http://127.0.0.1:${address.port}`;
}
