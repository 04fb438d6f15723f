import type { FastifyInstance } from "fastify";
import { clientSignal } from "../../http/client-signal.js";
import { type BucketFigures, parseStatsMode } from "../../services/buckets/service.js";
import type { Services } from "../../services/index.js";
import { resolveConnection, servicesOf } from "../session.js";

const bucketParam = {
  type: "object",
  required: ["bucket"],
  properties: { bucket: { type: "string", minLength: 1 } },
} as const;

/** The bucket shape: the RFC's fields (always integers) plus the Commander's stats_mode / stats_loaded / stale. */
export function bucketJson(b: BucketFigures) {
  return {
    name: b.name,
    object_count: b.objectCount,
    original_bytes: b.originalBytes,
    stored_bytes: b.storedBytes,
    savings_pct: b.savingsPct,
    computed_at: b.computedAt?.toISOString() ?? null,
    pending: b.pending,
    stats_mode: b.mode,
    stats_loaded: b.loaded,
    stale: b.stale,
    object_count_is_limited: false,
  };
}

/** GET/POST /api/buckets, DELETE /api/buckets/{b}, stats, cache refresh and compute-savings (RFC-DG-UI-0001). */
export async function bucketRoutes(app: FastifyInstance, { services }: { services: Services }) {
  app.addHook("onRequest", resolveConnection(services));

  app.get("/buckets", async (request, reply) => {
    const buckets = await servicesOf(request).buckets.list(clientSignal(reply));
    return { buckets: buckets.map(bucketJson) };
  });

  app.post<{ Body: { name: string } }>(
    "/buckets",
    {
      schema: {
        body: { type: "object", required: ["name"], properties: { name: { type: "string", minLength: 1 } } },
      },
    },
    async (request, reply) => {
      const name = request.body.name.trim();
      await servicesOf(request).buckets.create(name, clientSignal(reply));
      return reply.status(201).send({ status: "created", bucket: name });
    },
  );

  app.delete<{ Params: { bucket: string } }>(
    "/buckets/:bucket",
    { schema: { params: bucketParam } },
    async (request, reply) => {
      await servicesOf(request).buckets.remove(request.params.bucket, clientSignal(reply));
      return { status: "deleted", bucket: request.params.bucket };
    },
  );

  app.get<{ Params: { bucket: string }; Querystring: { mode?: string } }>(
    "/buckets/:bucket/stats",
    { schema: { params: bucketParam } },
    async (request, reply) => {
      const mode = parseStatsMode(request.query.mode);
      const figures = await servicesOf(request).buckets.stats(request.params.bucket, mode, clientSignal(reply));
      return { bucket: bucketJson(figures) };
    },
  );

  app.post<{ Body: { mode?: string } | undefined }>("/buckets/cache/refresh", async (request, reply) => {
    const mode = parseStatsMode(request.body?.mode);
    const buckets = await servicesOf(request).buckets.refresh(mode, clientSignal(reply));
    return { status: "refreshed", mode, buckets: buckets.map(bucketJson) };
  });

  app.post<{ Params: { bucket: string } }>(
    "/buckets/:bucket/compute-savings",
    { schema: { params: bucketParam } },
    async (request, reply) => {
      // The savings service answers a hidden or missing bucket with bucket_not_found.
      const job = await servicesOf(request).savings.start(request.params.bucket);
      return reply.status(202).send({ status: "accepted", bucket: job.bucket, task_id: job.taskId });
    },
  );
}
