import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { applyBrowserPolicy } from "./http/browser-policy.js";
import { registerUi } from "./http/ui.js";
import { createLogger } from "./logger.js";
import { graphqlPlugin } from "./resolvers/graphql-plugin.js";
import { handleError } from "./rest/errors.js";
import { restPlugin } from "./rest/index.js";
import { schema } from "./schema/index.js";
import { ADMIN_KEY_COOKIE } from "./services/credentials.js";
import { createServices, type ServiceOverrides, type Services } from "./services/index.js";

export interface BuildOptions {
  logger?: Logger;
  services?: Services;
  overrides?: ServiceOverrides;
}

declare module "fastify" {
  interface FastifyRequest {
    startedAt: number;
    bytesWrittenAtStart: number;
  }
}

function pick(source: unknown, name: string): string | undefined {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : undefined;
}

/** Trust the nearest `hops` proxies (what fastify does for a number; its types only take the function). */
function trustHops(hops: number) {
  return (_address: string, hop: number) => hop < hops;
}

/** Builds the whole HTTP app without listening, so tests can `inject` or listen on a random port. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const services = options.services ?? createServices(config, logger, options.overrides);
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: "idle",
    // Download tokens travel in the path. The Commander UI calls `/api/buckets/`, `/api/objects/?…`, `/api/upload/`:
    // a trailing slash is the same route.
    routerOptions: { maxParamLength: 4096, ignoreTrailingSlash: true },
    // TRUST_PROXY: off (X-Forwarded-For ignored), a hop count, or the proxies' addresses/CIDR ranges. request.ip is
    // then the client address fastify resolves, for the rate limit, the audit trail and the access log alike.
    trustProxy: typeof config.http.trustProxy === "number" ? trustHops(config.http.trustProxy) : config.http.trustProxy,
  }) as unknown as FastifyInstance;
  app.decorate("services", services);
  // The route table, recorded as routes register: tests enumerate it so no route escapes auth or openapi.yaml.
  const routeTable: { method: string; url: string }[] = [];
  app.decorate("routeTable", routeTable);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url });
  });

  // One JSON access-log line and one metrics sample per request.
  app.addHook("onRequest", async (request) => {
    request.startedAt = performance.now();
    request.bytesWrittenAtStart = request.raw.socket?.bytesWritten ?? 0;
  });
  app.addHook("onResponse", async (request, reply) => {
    const latency = performance.now() - request.startedAt;
    const route = request.routeOptions.url ?? "unmatched";
    services.metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode });
    services.metrics.httpDuration.observe({ method: request.method, route }, latency / 1000);
    request.log.info(
      {
        // The keyed hash, not the address, when SEND_ANONYMISE_IPS is on.
        ip: services.audit.displayIp(request.ip),
        method: request.method,
        route,
        status: reply.statusCode,
        latency_ms: Math.round(latency * 10) / 10,
        bytes_out: (request.raw.socket?.bytesWritten ?? 0) - request.bytesWrittenAtStart,
        bucket: pick(request.params, "bucket") ?? pick(request.query, "bucket") ?? pick(request.body, "bucket"),
        key: request.routeOptions.url
          ? (pick(request.params, "*") ?? pick(request.query, "key") ?? pick(request.body, "key"))
          : undefined,
      },
      "request",
    );
  });

  app.setErrorHandler(handleError);
  // Before the browser policy: its onRequest hook marks upgrade requests, so a refused upgrade's socket is closed.
  await app.register(websocket);
  // CORS, cookies and the origin check, the same for REST, GraphQL and WebSocket (src/http/browser-policy.ts).
  const policy = await applyBrowserPolicy(app, { corsOrigins: config.http.corsOrigins });
  policy.credentialCookies.add(ADMIN_KEY_COOKIE);
  // The Commander UI, when UI_DIR is set: its files at `/`, index.html for client-side routes (see http/ui.ts).
  if (config.uiDir) await registerUi(app, config.uiDir);
  await app.register(restPlugin, { services });
  await app.register(graphqlPlugin, { services, schema });
  // Cancel savings jobs before waiting for in-flight requests: their open progress streams end with the CANCELLED event.
  app.addHook("preClose", async () => services.savings.close());
  app.addHook("onClose", async () => services.close());
  return app;
}

declare module "fastify" {
  interface FastifyInstance {
    services: Services;
    routeTable: { method: string; url: string }[];
  }
}
