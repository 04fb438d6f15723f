import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { Services } from "../services/index.js";
import { AnyObject, described, errorResponses, SECURITY } from "./schemas.js";

const Liveness = Type.Object({ status: Type.Literal("ok"), uptimeSeconds: Type.Integer() });

const Readiness = Type.Object({
  ready: Type.Boolean(),
  checks: AnyObject,
});

// Operational routes answer no 4xx: they take no input and need no credentials (so redocly's rule that every
// operation has a 4xx is waived for exactly these, in .redocly.lint-ignore.yaml).
const health = { tags: ["Health"], security: SECURITY.none };
const liveness = { 200: described(Liveness, "The process answers"), ...errorResponses([]) };

/** Liveness, readiness and Prometheus metrics: operational routes outside /api. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    "/health",
    { schema: { ...health, operationId: "getLiveness", summary: "Liveness", response: liveness } },
    async () => services.health.live(),
  );
  app.get(
    "/api/health",
    {
      schema: {
        ...health,
        operationId: "getApiLiveness",
        summary: "Liveness (Send public surface)",
        response: liveness,
      },
    },
    async () => services.health.live(),
  );
  app.get(
    "/ready",
    {
      schema: {
        ...health,
        operationId: "getReadiness",
        summary: "Readiness (object store reachable)",
        description:
          "`checks.storage.conditional_writes` reports whether the object store enforces `If-None-Match: *` and " +
          "`If-Match`, probed once per backend on a scratch key in the system bucket (absent until a probe finished).",
        response: {
          200: described(Readiness, "Ready"),
          503: described(Readiness, "Storage unreachable (ready: false)"),
          ...errorResponses([]),
        },
      },
    },
    async (_request, reply) => {
      const readiness = await services.health.ready();
      return reply.status(readiness.ready ? 200 : 503).send(readiness);
    },
  );
  app.get(
    "/metrics",
    {
      schema: {
        ...health,
        operationId: "getMetrics",
        summary: "Prometheus metrics",
        response: {
          200: { description: "Prometheus text format", content: { "text/plain": { schema: Type.String() } } },
          ...errorResponses([]),
        },
      },
    },
    async (_request, reply) => {
      reply.header("content-type", services.metrics.registry.contentType);
      return services.metrics.registry.metrics();
    },
  );
};
