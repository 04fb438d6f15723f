import type { FastifyInstance } from "fastify";
import type { Services } from "../services/index.js";

/** Liveness, readiness and Prometheus metrics: operational routes outside /api. */
export async function healthRoutes(app: FastifyInstance, { services }: { services: Services }) {
  app.get("/health", async () => services.health.live());
  app.get("/api/health", async () => services.health.live());
  app.get("/ready", async (_request, reply) => {
    const readiness = await services.health.ready();
    return reply.status(readiness.ready ? 200 : 503).send(readiness);
  });
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", services.metrics.registry.contentType);
    return services.metrics.registry.metrics();
  });
}
