import type { Readable } from "node:stream";
import multipart from "@fastify/multipart";
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { clientSignal } from "../../http/client-signal.js";
import { mediaTypeOf, requireMediaType } from "../../http/content-type.js";
import { spoolForm } from "../../http/multipart-spool.js";
import { sendLeased } from "../../http/send-leased.js";
import {
  LINK_TTL_DEFAULT_SECONDS,
  LINK_TTL_MAX_SECONDS,
  LINK_TTL_MIN_SECONDS,
} from "../../services/downloads/service.js";
import { type ErrorCode, GliderError } from "../../services/errors.js";
import type { Services } from "../../services/index.js";
import {
  Binary,
  CROSS_ORIGIN,
  DateTime,
  errorResponses,
  INPUT,
  JSON_BODY,
  SECURITY,
  SESSION,
  SHARED,
  STORE,
} from "../schemas.js";
import { resolveConnection, servicesOf } from "../session.js";
import { FormUpload, SingleUpload } from "./schemas.js";
import { contentDisposition } from "./shapes.js";

/** Most files one multipart upload may carry (the Commander sends 5); further ones are reported, not stored. */
export const UPLOAD_MAX_FILES = 100;

/** Absolute base of links: PUBLIC_BASE_URL behind a proxy, else the request's own scheme and host. */
function baseUrl(services: Services, request: FastifyRequest): string {
  return services.config.publicBaseUrl ?? `${request.protocol}://${request.host}`;
}

const Downloads = { tags: ["Downloads"], security: SECURITY.optionalSession };

const ObjectRef = { bucket: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) };

/** What opening an object for download can answer, besides input and session errors. */
const OPENING: ErrorCode[] = [...STORE, "invalid_key", "bucket_not_found", "key_not_found"];

/** The upload's body, for openapi.yaml only: a byte stream or a form is parsed by the route, never by a schema. */
const UploadBody = {
  content: {
    "application/octet-stream": { schema: Binary },
    "multipart/form-data": {
      schema: Type.Object({
        bucket: Type.String(),
        key: Type.Optional(Type.String()),
        file: Type.Optional(Binary),
        prefix: Type.Optional(Type.String()),
        files: Type.Optional(Type.Array(Binary)),
      }),
    },
  },
};

/** Token downloads, shareable download links and uploads (RFC-DG-UI-0001, the Commander's form). */
export const downloadRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  // The token is the capability: opening it needs no session.
  app.addHook(
    "onRequest",
    resolveConnection(services, (request) => request.routeOptions.url?.endsWith("/download/:token") === true),
  );

  app.post(
    "/download/prepare",
    {
      schema: {
        ...Downloads,
        operationId: "prepareDownload",
        summary: "Issue a download token (HMAC, 5 minutes)",
        body: Type.Object(ObjectRef),
        response: {
          200: Type.Object(
            { download_token: Type.String(), estimated_bytes: Type.Integer(), expires_at: DateTime },
            { additionalProperties: false, description: "Token" },
          ),
          ...errorResponses([...JSON_BODY, ...CROSS_ORIGIN, ...SESSION, ...OPENING]),
        },
      },
    },
    async (request, reply) => {
      const ticket = await servicesOf(request).downloads.prepare(
        request.body.bucket,
        request.body.key,
        clientSignal(reply),
      );
      return {
        download_token: ticket.token,
        estimated_bytes: ticket.estimatedBytes,
        expires_at: ticket.expiresAt.toISOString(),
      };
    },
  );

  app.post(
    "/download/presigned-url",
    {
      schema: {
        ...Downloads,
        operationId: "createPresignedDownloadUrl",
        summary: `A shareable link to the verified streaming download, valid expires_in seconds (${LINK_TTL_MIN_SECONDS} .. ${LINK_TTL_MAX_SECONDS})`,
        description:
          "download_url is absolute (PUBLIC_BASE_URL, else the request's scheme and host) and works without a " +
          "session: the token is the capability. with_rehydration is accepted and always true (Glider always " +
          "reconstructs).",
        body: Type.Object({
          ...ObjectRef,
          // The bounds are the downloads service's to check (its message names them): stated, not validated here.
          expires_in: Type.Optional(
            Type.Integer({
              description: `seconds, ${LINK_TTL_MIN_SECONDS} to ${LINK_TTL_MAX_SECONDS} (default ${LINK_TTL_DEFAULT_SECONDS})`,
            }),
          ),
          with_rehydration: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: Type.Object(
            {
              bucket: Type.String(),
              key: Type.String(),
              download_url: Type.String({ format: "uri" }),
              expires_in: Type.Integer(),
              expires_at: Type.Integer({ description: "epoch seconds" }),
              estimated_bytes: Type.Integer(),
            },
            { additionalProperties: false, description: "Link" },
          ),
          ...errorResponses([...JSON_BODY, ...CROSS_ORIGIN, ...SESSION, ...OPENING]),
        },
      },
    },
    async (request, reply) => {
      const scoped = servicesOf(request);
      const expiresIn = request.body.expires_in ?? LINK_TTL_DEFAULT_SECONDS;
      const ticket = await scoped.downloads.prepare(
        request.body.bucket,
        request.body.key,
        clientSignal(reply),
        expiresIn * 1000,
      );
      services.connections.holdFor(scoped.connection, ticket.expiresAt.getTime());
      return {
        bucket: ticket.bucket,
        key: ticket.key,
        download_url: `${baseUrl(services, request)}/api/download/${ticket.token}`,
        expires_in: expiresIn,
        expires_at: Math.floor(ticket.expiresAt.getTime() / 1000),
        estimated_bytes: ticket.estimatedBytes,
      };
    },
  );

  app.get(
    "/download/:token",
    {
      schema: {
        tags: ["Downloads"],
        security: SECURITY.none,
        operationId: "downloadObject",
        summary: "Stream the reconstructed, verified original",
        params: Type.Object({ token: Type.String() }),
        response: {
          200: {
            description:
              "The original bytes with Content-Length, Content-Disposition (RFC 6266), X-DG-Logical-ETag (sha256) " +
              "and Accept-Ranges: none. A verification failure after the first byte aborts the connection.",
            content: { "application/octet-stream": { schema: Binary } },
          },
          // integrity_failed: found before the first byte; the link's connection may be gone (expired).
          ...errorResponses([
            ...SHARED,
            ...OPENING,
            "download_token_invalid",
            "download_token_expired",
            "integrity_failed",
          ]),
        },
      },
    },
    async (request, reply) => {
      const download = await services.connections.openDownload(request.params.token, clientSignal(reply));
      reply.header("content-type", "application/octet-stream");
      reply.header("content-length", String(download.size));
      reply.header("content-disposition", contentDisposition(download.key));
      reply.header("accept-ranges", "none");
      if (download.sha256) reply.header("x-dg-logical-etag", download.sha256);
      await sendLeased(reply, download.chunks);
    },
  );

  await app.register(async (uploads) => {
    // Each file of a form is spooled whole before anything is stored: the upload limit applies to each (413).
    await uploads.register(multipart, {
      limits: { fileSize: services.config.limits.uploadMaxBytes, files: Number.MAX_SAFE_INTEGER },
      // The Commander names each file by its relative path ("folder/file"): keep it.
      preservePath: true,
    });
    uploads.addContentTypeParser("application/octet-stream", (_request, payload, done) => done(null, payload));
    // Only a byte stream or a multipart form carries a file; anything else is refused before the body is read.
    uploads.addHook("onRequest", requireMediaType("application/octet-stream", "multipart/form-data"));
    uploads.addHook("onRequest", async (request, reply) => {
      // A declared length already over the limit is refused before a byte is read.
      const declared = Number(request.headers["content-length"] ?? Number.NaN);
      const max = services.config.limits.uploadMaxBytes;
      if (mediaTypeOf(request) === "application/octet-stream" && declared > max) {
        reply.header("connection", "close");
        throw new GliderError("payload_too_large", `upload exceeds the ${max}-byte limit`, { max_bytes: max });
      }
    });
    // An error answered before the body's end closes the connection instead of draining up to UPLOAD_MAX_BYTES.
    uploads.addHook("onError", async (request, reply) => {
      if (!request.raw.readableEnded && request.headers["content-length"] !== "0") reply.header("connection", "close");
    });
    uploads.withTypeProvider<TypeBoxTypeProvider>().post(
      "/upload",
      {
        config: { openapiBody: UploadBody },
        schema: {
          tags: ["Objects"],
          security: SECURITY.optionalSession,
          operationId: "uploadObject",
          summary: "Upload (stored as reference, delta or direct, as the DeltaGlider CLI would)",
          description:
            "Three forms. A raw body with bucket and key in the query. A multipart form with bucket, key and one " +
            "file (RFC-DG-UI-0001). The Commander's multipart form with bucket, prefix and files x N (each named by " +
            "its relative path): one result per file; a file that fails is reported in its result (operation " +
            '"failed", error) and never leaves a partial object. A multipart form is received completely before ' +
            "anything is stored, so a wrong form (a second file for one key, no bucket) stores nothing.",
          querystring: Type.Object({
            bucket: Type.Optional(Type.String({ description: "required for raw bodies" })),
            key: Type.Optional(Type.String({ description: "required for raw bodies" })),
          }),
          response: {
            200: Type.Union([SingleUpload, FormUpload], { description: "Stored" }),
            ...errorResponses([
              ...INPUT,
              ...CROSS_ORIGIN,
              ...SESSION,
              ...STORE,
              "payload_too_large",
              "unsupported_media_type",
              "invalid_key",
              "bucket_not_found",
            ]),
          },
        },
      },
      async (request, reply) => {
        const scoped = servicesOf(request);
        if (!request.isMultipart()) {
          const { bucket, key } = request.query;
          if (!bucket || !key) {
            throw new GliderError("invalid_request", "bucket and key query parameters are required", {
              parameter: !bucket ? "bucket" : "key",
            });
          }
          const result = await scoped.objects.upload(bucket, key, request.body as Readable, clientSignal(reply));
          return singleJson(result);
        }
        // The whole form is received before anything is stored, so a wrong request stores nothing.
        const form = await spoolForm(request, { maxFiles: UPLOAD_MAX_FILES });
        try {
          const bucket = (form.fields.bucket ?? request.query.bucket ?? "").trim();
          const key = form.fields.key ?? request.query.key;
          if (!bucket) throw new GliderError("invalid_request", "send the bucket field", { parameter: "bucket" });
          if (form.files.length === 0) {
            throw new GliderError("invalid_request", "no file in the upload", { parameter: "files" });
          }
          if (key !== undefined) {
            // RFC-DG-UI-0001 form: one file stored under `key`.
            if (form.files.length > 1) {
              throw new GliderError("invalid_request", "one file per key: send several files without a key field", {
                parameter: "key",
                files: form.files.length,
              });
            }
            if (!key) throw new GliderError("invalid_request", "key is empty", { parameter: "key" });
            const result = await scoped.objects.upload(bucket, key, form.files[0].open(), clientSignal(reply));
            return singleJson(result);
          }
          // The Commander's form: files x N named by their relative paths, under `prefix`.
          const prefix = (form.fields.prefix ?? "").replace(/^\/+|\/+$/g, "");
          const outcomes = await scoped.objects.uploadFiles(
            bucket,
            prefix,
            form.files.map((f) => ({
              relativePath: f.filename,
              open: f.open,
              rejected: f.refused ? new GliderError("invalid_request", f.refused, { parameter: "files" }) : undefined,
            })),
            clientSignal(reply),
          );
          let original = 0;
          let stored = 0;
          const results = outcomes.map((o) => {
            if (!o.ok) {
              return {
                bucket,
                key: o.key,
                relative_path: o.relativePath,
                original_bytes: 0,
                stored_bytes: 0,
                compressed: false,
                operation: "failed" as const,
                savings_bytes: 0,
                savings_pct: 0,
                error: { code: o.error.code, message: o.error.message },
              };
            }
            const r = o.result;
            original += r.originalBytes;
            stored += r.storedBytes;
            const savings = Math.max(0, r.originalBytes - r.storedBytes);
            return {
              bucket,
              key: r.key,
              relative_path: o.relativePath,
              original_bytes: r.originalBytes,
              stored_bytes: r.storedBytes,
              compressed: r.storedAs !== "direct",
              operation: OPERATION[r.storedAs],
              savings_bytes: savings,
              savings_pct: pct(savings, r.originalBytes),
              physical_key: r.physicalKey,
              sha256: r.sha256,
            };
          });
          const savings = Math.max(0, original - stored);
          return {
            bucket,
            prefix,
            results,
            stats: {
              count: outcomes.filter((o) => o.ok).length,
              failed: outcomes.filter((o) => !o.ok).length,
              original_bytes: original,
              stored_bytes: stored,
              savings_bytes: savings,
              savings_pct: pct(savings, original),
            },
          };
        } finally {
          await form.cleanup();
        }
      },
    );
  });
};

/** The Commander's name for how a file was stored. */
const OPERATION = { direct: "upload_direct", reference: "create_reference", delta: "create_delta" } as const;

function pct(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0;
}

function singleJson(result: Awaited<ReturnType<Services["objects"]["upload"]>>) {
  return {
    status: "ok" as const,
    key: result.key,
    stored_as: result.storedAs,
    original_bytes: result.originalBytes,
    stored_bytes: result.storedBytes,
    sha256: result.sha256,
  };
}
