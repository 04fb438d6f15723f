import type { FastifyInstance } from "fastify";
import { clientSignal } from "../../http/client-signal.js";
import { GliderError } from "../../services/errors.js";
import type { Services } from "../../services/index.js";
import { BULK_DELETE_MAX, parseCompressed, parseSort } from "../../services/objects/service.js";
import { resolveConnection, servicesOf } from "../session.js";
import { objectJson } from "./shapes.js";

interface ListQuery {
  bucket: string;
  prefix?: string;
  cursor?: string;
  limit?: number;
  sort?: string;
  order?: string;
  compressed?: string;
  search?: string;
  bypass_cache?: string;
}

const listSchema = {
  querystring: {
    type: "object",
    required: ["bucket"],
    properties: {
      bucket: { type: "string", minLength: 1 },
      prefix: { type: "string" },
      cursor: { type: "string" },
      limit: { type: "integer", minimum: 1, maximum: 1000 },
      sort: { type: "string" },
      order: { type: "string" },
      compressed: { type: "string" },
      search: { type: "string" },
      // The Commander's refresh button asks for a listing that skips the server's cache.
      bypass_cache: { type: "string", enum: ["true", "false"] },
    },
  },
} as const;

/** `/api/objects/{bucket}/{*key}/metadata`: the wildcard carries the key, which may itself contain `/`. */
function keyOf(wildcard: string, suffix: string): string | undefined {
  if (!wildcard.endsWith(suffix)) return undefined;
  const key = wildcard.slice(0, wildcard.length - suffix.length);
  return key.length > 0 ? key : undefined;
}

export async function objectRoutes(app: FastifyInstance, { services }: { services: Services }) {
  app.addHook("onRequest", resolveConnection(services));

  app.delete<{ Body: { bucket: string; keys: string[] } }>(
    "/objects/bulk",
    {
      schema: {
        body: {
          type: "object",
          required: ["bucket", "keys"],
          properties: {
            bucket: { type: "string", minLength: 1 },
            keys: { type: "array", items: { type: "string", minLength: 1 }, maxItems: BULK_DELETE_MAX },
          },
        },
      },
    },
    async (request, reply) => {
      const { bucket, keys } = request.body;
      const result = await servicesOf(request).objects.bulkDelete(bucket, keys, clientSignal(reply));
      return {
        deleted: result.deleted,
        errors: result.errors.map((e) => ({ key: e.key, error: e.message, code: e.code })),
        total_requested: keys.length,
        total_deleted: result.deleted.length,
        total_errors: result.errors.length,
      };
    },
  );

  app.get<{ Querystring: ListQuery }>("/objects", { schema: listSchema }, async (request, reply) => {
    const q = request.query;
    // The Commander sends "" or "null" for the first page.
    const cursor = q.cursor && q.cursor !== "null" ? q.cursor : undefined;
    const page = await servicesOf(request).objects.listObjects(
      {
        bucket: q.bucket,
        prefix: q.prefix,
        cursor,
        limit: q.limit,
        ...parseSort(q.sort, q.order),
        compressed: parseCompressed(q.compressed),
        search: q.search || undefined,
        fresh: q.bypass_cache === "true",
      },
      request.ip,
      clientSignal(reply),
    );
    return {
      objects: page.objects.map(objectJson),
      common_prefixes: page.commonPrefixes,
      ...(page.cursor ? { cursor: page.cursor } : {}),
    };
  });

  app.get<{ Params: { bucket: string; "*": string } }>("/objects/:bucket/*", async (request, reply) => {
    const key = keyOf(request.params["*"], "/metadata");
    if (!key) throw new GliderError("invalid_request", "expected /api/objects/{bucket}/{key}/metadata", {});
    const object = await servicesOf(request).objects.metadata(request.params.bucket, key, clientSignal(reply));
    return {
      ...objectJson(object),
      accept_ranges: object.acceptRanges,
      content_type: object.contentType ?? null,
      etag: object.etag.replace(/"/g, ""),
      metadata: object.metadata,
    };
  });

  app.delete<{ Params: { bucket: string; "*": string } }>("/objects/:bucket/*", async (request, reply) => {
    const key = request.params["*"];
    if (!key) throw new GliderError("invalid_request", "expected /api/objects/{bucket}/{key}", {});
    const result = await servicesOf(request).objects.delete(request.params.bucket, key, clientSignal(reply));
    return { status: "ok", key, deleted: result.deleted };
  });
}
