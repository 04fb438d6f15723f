import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { registerAccessLog, writeAccessLine } from "./http/access-log.js";
import { applyBrowserPolicy } from "./http/browser-policy.js";
import { bindRequestLogContext } from "./http/request-log-context.js";
import { registerUi } from "./http/ui.js";
import { BINDS_REQ_ID, createLogger } from "./logger.js";
import { graphqlPlugin } from "./resolvers/graphql-plugin.js";
import { envelope, handleError } from "./rest/errors.js";
import { restPlugin } from "./rest/index.js";
import { registerOpenapi } from "./rest/openapi.js";
import { schema } from "./schema/index.js";
import { ADMIN_KEY_COOKIE } from "./services/credentials.js";
import { createServices, type ServiceOverrides, type Services } from "./services/index.js";

export interface BuildOptions {
  logger?: Logger;
  services?: Services;
  overrides?: ServiceOverrides;
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
    // request.log binds reqId itself: mark it so the logger's mixin does not add the key a second time.
    childLoggerFactory: (parent, bindings, childOptions) =>
      Object.assign(parent.child(bindings, childOptions), { [BINDS_REQ_ID]: true }),
    // A URL that cannot be routed (bad percent-encoding, an over-long parameter) gets the error envelope and an
    // access line like any request; fastify would answer these itself, before any hook.
    frameworkErrors: (error, request, raw) => {
      const reply = raw as unknown as FastifyReply;
      reply.raw.once("finish", () => writeAccessLine(services, request, reply, false));
      const status = error.statusCode ?? 500;
      reply.status(status).send(envelope(status < 500 ? "invalid_request" : "internal", error.message));
    },
  }) as unknown as FastifyInstance;
  app.decorate("services", services);
  // The route table, recorded as routes register: tests enumerate it so no route escapes auth or openapi.yaml.
  const routeTable: { method: string; url: string }[] = [];
  app.decorate("routeTable", routeTable);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url });
  });

  bindRequestLogContext(app);

  app.setErrorHandler(handleError);
  // Records the REST routes' schemas as they register: openapi.yaml is printed from them (`npm run openapi`).
  await registerOpenapi(app);
  // Before the browser policy: its onRequest hook marks upgrade requests, so a refused upgrade's socket is closed.
  await app.register(websocket);
  registerAccessLog(app, services);
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
