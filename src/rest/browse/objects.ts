import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { clientSignal } from "../../http/client-signal.js";
import { GliderError } from "../../services/errors.js";
import type { Services } from "../../services/index.js";
import {
  BULK_DELETE_MAX,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  parseCompressed,
  parseSort,
} from "../../services/objects/service.js";
import {
  CROSS_ORIGIN,
  described,
  errorResponses,
  INPUT,
  JSON_BODY,
  SECURITY,
  SESSION,
  STORE,
  StringEnum,
} from "../schemas.js";
import { resolveConnection, servicesOf } from "../session.js";
import { ObjectMetadata, ObjectRow } from "./schemas.js";
import { objectJson } from "./shapes.js";

const ListQuery = Type.Object({
  bucket: Type.String({ minLength: 1 }),
  prefix: Type.Optional(Type.String()),
  cursor: Type.Optional(Type.String()),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: LIST_LIMIT_MAX, description: `default ${LIST_LIMIT_DEFAULT}` }),
  ),
  sort: Type.Optional(
    Type.String({
      description:
        "name|size|modified|savings_pct with _asc or _desc (default modified_desc); the Commander's sort + order also work",
    }),
  ),
  order: Type.Optional(Type.String({ description: "asc | desc" })),
  compressed: Type.Optional(Type.String({ description: "any | true | false" })),
  search: Type.Optional(Type.String()),
  // The Commander's refresh button asks for a listing that skips the server's cache.
  bypass_cache: Type.Optional(
    StringEnum(["true", "false"], {
      description: "true: list the folder again instead of answering from the listing cache (the UI's refresh)",
    }),
  ),
});

/** A logical key after the bucket: the route's wildcard, shown in openapi.yaml as `{key}` (src/rest/openapi.ts). */
const KeyParams = Type.Object({ bucket: Type.String(), "*": Type.String() });

const Objects = { tags: ["Objects"], security: SECURITY.optionalSession };

/** `/api/objects/{bucket}/{*key}/metadata`: the wildcard carries the key, which may itself contain `/`. */
function keyOf(wildcard: string, suffix: string): string | undefined {
  if (!wildcard.endsWith(suffix)) return undefined;
  const key = wildcard.slice(0, wildcard.length - suffix.length);
  return key.length > 0 ? key : undefined;
}

export const objectRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.addHook("onRequest", resolveConnection(services));

  app.delete(
    "/objects/bulk",
    {
      schema: {
        ...Objects,
        operationId: "deleteObjects",
        summary: "Delete several logical objects; each failing key is reported and the others go on",
        body: Type.Object({
          bucket: Type.String({ minLength: 1 }),
          keys: Type.Array(Type.String({ minLength: 1 }), { maxItems: BULK_DELETE_MAX }),
        }),
        response: {
          200: Type.Object(
            {
              deleted: Type.Array(Type.String()),
              errors: Type.Array(Type.Object({ key: Type.String(), error: Type.String(), code: Type.String() })),
              total_requested: Type.Integer(),
              total_deleted: Type.Integer(),
              total_errors: Type.Integer(),
            },
            { additionalProperties: false, description: "Outcome per key" },
          ),
          ...errorResponses([...JSON_BODY, ...CROSS_ORIGIN, ...SESSION, ...STORE, "bucket_not_found"]),
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

  app.get(
    "/objects",
    {
      schema: {
        ...Objects,
        operationId: "listObjects",
        summary: "One folder of logical objects",
        querystring: ListQuery,
        response: {
          200: Type.Object(
            {
              objects: Type.Array(ObjectRow),
              common_prefixes: Type.Array(Type.String()),
              cursor: Type.Optional(Type.String()),
            },
            { additionalProperties: false, description: "A page" },
          ),
          // throttled is also the per-client listing rate limit (OBJECTS_RATE_LIMIT), with a Retry-After header.
          ...errorResponses([...INPUT, ...SESSION, ...STORE, "invalid_cursor", "invalid_prefix", "bucket_not_found"]),
        },
      },
    },
    async (request, reply) => {
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
    },
  );

  app.get(
    "/objects/:bucket/*",
    {
      config: { openapiKeyPath: "{key}/metadata" },
      schema: {
        ...Objects,
        operationId: "getObjectMetadata",
        summary: "One logical object",
        params: KeyParams,
        response: {
          200: described(ObjectMetadata, "Metadata"),
          ...errorResponses([...INPUT, ...SESSION, ...STORE, "invalid_key", "bucket_not_found", "key_not_found"]),
        },
      },
    },
    async (request, reply) => {
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
    },
  );

  app.delete(
    "/objects/:bucket/*",
    {
      config: { openapiKeyPath: "{key}" },
      schema: {
        ...Objects,
        operationId: "deleteObject",
        summary: "Delete a logical object (and its reference when no delta needs it any more)",
        params: KeyParams,
        response: {
          200: Type.Object(
            { status: Type.Literal("ok"), key: Type.String(), deleted: Type.Array(Type.String()) },
            { additionalProperties: false, description: "Deleted" },
          ),
          ...errorResponses([
            ...INPUT,
            ...CROSS_ORIGIN,
            ...SESSION,
            ...STORE,
            "invalid_key",
            "bucket_not_found",
            "key_not_found",
          ]),
        },
      },
    },
    async (request, reply) => {
      const key = request.params["*"];
      if (!key) throw new GliderError("invalid_request", "expected /api/objects/{bucket}/{key}", {});
      const result = await servicesOf(request).objects.delete(request.params.bucket, key, clientSignal(reply));
      return { status: "ok" as const, key, deleted: result.deleted };
    },
  );
};
