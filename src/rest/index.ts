import type { FastifyInstance } from "fastify";
import type { Services } from "../services/index.js";
import { envelope } from "./errors.js";
import { healthRoutes } from "./health.js";

/** The REST shim: each group is an encapsulated plugin that only translates HTTP to service calls. */
export async function restPlugin(app: FastifyInstance, { services }: { services: Services }) {
  await app.register(healthRoutes, { services });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(envelope("not_found", `no route for ${request.method} ${request.url.split("?")[0]}`)),
  );
}
