import type { FastifyInstance } from "fastify";
import { clientSignal } from "../../http/client-signal.js";
import type { Services } from "../../services/index.js";

const bucketParam = {
  type: "object",
  required: ["bucket"],
  properties: { bucket: { type: "string", minLength: 1 } },
} as const;

/** GET /api/buckets and POST /api/buckets/{bucket}/compute-savings (RFC-DG-UI-0001). */
export async function bucketRoutes(app: FastifyInstance, { services }: { services: Services }) {
  app.get("/buckets", async (_request, reply) => {
    const buckets = await services.objects.buckets(clientSignal(reply));
    return {
      buckets: await Promise.all(
        buckets.map(async ({ name }) => {
          const { figures, pending } = await services.savings.status(name);
          return {
            name,
            object_count: figures?.objectCount ?? null,
            original_bytes: figures?.originalBytes ?? null,
            stored_bytes: figures?.storedBytes ?? null,
            savings_pct: figures?.savingsPct ?? null,
            computed_at: figures?.computedAt.toISOString() ?? null,
            pending,
          };
        }),
      ),
    };
  });

  app.post<{ Params: { bucket: string } }>(
    "/buckets/:bucket/compute-savings",
    { schema: { params: bucketParam } },
    async (request, reply) => {
      services.objects.assertVisible(request.params.bucket);
      const job = await services.savings.start(request.params.bucket);
      return reply.status(202).send({ status: "accepted", bucket: job.bucket, task_id: job.taskId });
    },
  );
}
