import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { clientSignal } from "../../http/client-signal.js";
import { type BucketFigures, parseStatsMode, STATS_MODES } from "../../services/buckets/service.js";
import type { Services } from "../../services/index.js";
import { CROSS_ORIGIN, errorResponses, INPUT, JSON_BODY, OPTIONAL_BODY, SECURITY, SESSION, STORE } from "../schemas.js";
import { resolveConnection, servicesOf } from "../session.js";
import { Bucket, BucketParams, StatsMode } from "./schemas.js";

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

const Buckets = { tags: ["Buckets"], security: SECURITY.optionalSession };

/** GET/POST /api/buckets, DELETE /api/buckets/{b}, stats, cache refresh and compute-savings (RFC-DG-UI-0001). */
export const bucketRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.addHook("onRequest", resolveConnection(services));

  app.get(
    "/buckets",
    {
      schema: {
        ...Buckets,
        operationId: "listBuckets",
        summary: "Buckets with the figures known so far (no scan; see the stats route)",
        response: {
          200: Type.Object({ buckets: Type.Array(Bucket) }, { description: "Buckets" }),
          ...errorResponses([...SESSION, ...STORE]),
        },
      },
    },
    async (request, reply) => {
      const buckets = await servicesOf(request).buckets.list(clientSignal(reply));
      return { buckets: buckets.map(bucketJson) };
    },
  );

  app.post(
    "/buckets",
    {
      schema: {
        ...Buckets,
        operationId: "createBucket",
        summary: "Create a bucket (409 bucket_exists when it exists)",
        body: Type.Object({ name: Type.String({ minLength: 1 }) }),
        response: {
          201: Type.Object(
            { status: Type.Literal("created"), bucket: Type.String() },
            { additionalProperties: false, description: "Created" },
          ),
          ...errorResponses([
            ...JSON_BODY,
            ...CROSS_ORIGIN,
            ...SESSION,
            ...STORE,
            "invalid_bucket_name",
            "bucket_exists",
          ]),
        },
      },
    },
    async (request, reply) => {
      const name = request.body.name.trim();
      await servicesOf(request).buckets.create(name, clientSignal(reply));
      return reply.status(201).send({ status: "created", bucket: name });
    },
  );

  app.delete(
    "/buckets/:bucket",
    {
      schema: {
        ...Buckets,
        operationId: "deleteBucket",
        summary: "Delete an empty bucket (409 bucket_not_empty while it holds objects)",
        params: BucketParams,
        response: {
          200: Type.Object(
            { status: Type.Literal("deleted"), bucket: Type.String() },
            { additionalProperties: false, description: "Deleted" },
          ),
          ...errorResponses([
            ...INPUT,
            ...CROSS_ORIGIN,
            ...SESSION,
            ...STORE,
            "invalid_bucket_name",
            "bucket_not_found",
            "bucket_not_empty",
          ]),
        },
      },
    },
    async (request, reply) => {
      await servicesOf(request).buckets.remove(request.params.bucket, clientSignal(reply));
      return { status: "deleted" as const, bucket: request.params.bucket };
    },
  );

  app.get(
    "/buckets/:bucket/stats",
    {
      schema: {
        ...Buckets,
        operationId: "getBucketStats",
        summary: "Figures of one bucket, at least as exact as mode (cached when fresh, computed otherwise)",
        params: BucketParams,
        // Any case is accepted ("QUICK"): the service parses it, so the schema only says it is a string.
        querystring: Type.Object({
          mode: Type.Optional(Type.String({ description: `${STATS_MODES.join(" | ")}, any case (default sampled)` })),
        }),
        response: {
          200: Type.Object({ bucket: Bucket }, { additionalProperties: false, description: "Figures" }),
          ...errorResponses([...INPUT, ...SESSION, ...STORE, "bucket_not_found"]),
        },
      },
    },
    async (request, reply) => {
      const mode = parseStatsMode(request.query.mode);
      const figures = await servicesOf(request).buckets.stats(request.params.bucket, mode, clientSignal(reply));
      return { bucket: bucketJson(figures) };
    },
  );

  app.post(
    "/buckets/cache/refresh",
    {
      // The Commander posts no body at all: read it as an empty object (see OPTIONAL_BODY).
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        ...Buckets,
        ...OPTIONAL_BODY,
        operationId: "refreshBucketStats",
        summary: "Recompute every bucket's figures in mode",
        body: Type.Object({
          mode: Type.Optional(Type.String({ description: `${STATS_MODES.join(" | ")}, any case (default sampled)` })),
        }),
        response: {
          200: Type.Object(
            { status: Type.Literal("refreshed"), mode: StatsMode, buckets: Type.Array(Bucket) },
            { additionalProperties: false, description: "Figures" },
          ),
          ...errorResponses([...JSON_BODY, ...CROSS_ORIGIN, ...SESSION, ...STORE]),
        },
      },
    },
    async (request, reply) => {
      const mode = parseStatsMode(request.body.mode);
      const buckets = await servicesOf(request).buckets.refresh(mode, clientSignal(reply));
      return { status: "refreshed" as const, mode, buckets: buckets.map(bucketJson) };
    },
  );

  app.post(
    "/buckets/:bucket/compute-savings",
    {
      schema: {
        ...Buckets,
        operationId: "computeSavings",
        summary: "Start (or join) the bucket's savings job",
        params: BucketParams,
        response: {
          202: Type.Object(
            { status: Type.Literal("accepted"), bucket: Type.String(), task_id: Type.String() },
            { additionalProperties: false, description: "Accepted" },
          ),
          // invalid_state: the server is shutting down.
          ...errorResponses([...INPUT, ...CROSS_ORIGIN, ...SESSION, ...STORE, "bucket_not_found", "invalid_state"]),
        },
      },
    },
    async (request, reply) => {
      // The savings service answers a hidden or missing bucket with bucket_not_found.
      const job = await servicesOf(request).savings.start(request.params.bucket);
      return reply.status(202).send({ status: "accepted", bucket: job.bucket, task_id: job.taskId });
    },
  );
};
