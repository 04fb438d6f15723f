import multipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
import { clientSignal } from "../../http/client-signal.js";
import { mediaTypeOf, requireMediaType } from "../../http/content-type.js";
import { sendLeased } from "../../http/send-leased.js";
import { GliderError } from "../../services/errors.js";
import type { Services } from "../../services/index.js";
import { contentDisposition } from "./shapes.js";

/** Token downloads and the upload passthrough (RFC-DG-UI-0001). */
export async function downloadRoutes(app: FastifyInstance, { services }: { services: Services }) {
  app.post<{ Body: { bucket: string; key: string } }>(
    "/download/prepare",
    {
      schema: {
        body: {
          type: "object",
          required: ["bucket", "key"],
          properties: { bucket: { type: "string", minLength: 1 }, key: { type: "string", minLength: 1 } },
        },
      },
    },
    async (request, reply) => {
      const ticket = await services.downloads.prepare(request.body.bucket, request.body.key, clientSignal(reply));
      return {
        download_token: ticket.token,
        estimated_bytes: ticket.estimatedBytes,
        expires_at: ticket.expiresAt.toISOString(),
      };
    },
  );

  app.get<{ Params: { token: string } }>("/download/:token", async (request, reply) => {
    const download = await services.downloads.open(request.params.token, clientSignal(reply));
    reply.header("content-type", "application/octet-stream");
    reply.header("content-length", String(download.size));
    reply.header("content-disposition", contentDisposition(download.key));
    reply.header("accept-ranges", "none");
    if (download.sha256) reply.header("x-dg-logical-etag", download.sha256);
    await sendLeased(reply, download.chunks);
  });

  await app.register(async (uploads) => {
    await uploads.register(multipart, { limits: { fileSize: Number.MAX_SAFE_INTEGER, files: 1 } });
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
    uploads.post<{ Querystring: { bucket?: string; key?: string } }>("/upload", async (request, reply) => {
      let bucket = request.query.bucket;
      let key = request.query.key;
      let result: Awaited<ReturnType<Services["objects"]["upload"]>> | undefined;
      if (request.isMultipart()) {
        for await (const part of request.parts()) {
          if (part.type === "field") {
            if (part.fieldname === "bucket") bucket = String(part.value);
            if (part.fieldname === "key") key = String(part.value);
            continue;
          }
          if (!bucket || !key) {
            throw new GliderError("invalid_request", "send the bucket and key fields before the file", {
              parameter: !bucket ? "bucket" : "key",
            });
          }
          result = await services.objects.upload(bucket, key, part.file, clientSignal(reply));
        }
      } else {
        if (!bucket || !key) {
          throw new GliderError("invalid_request", "bucket and key query parameters are required", {
            parameter: !bucket ? "bucket" : "key",
          });
        }
        result = await services.objects.upload(
          bucket,
          key,
          request.body as NodeJS.ReadableStream as never,
          clientSignal(reply),
        );
      }
      if (!result) throw new GliderError("invalid_request", "no file in the upload", { parameter: "file" });
      return {
        status: "ok",
        key: result.key,
        stored_as: result.storedAs,
        original_bytes: result.originalBytes,
        stored_bytes: result.storedBytes,
        sha256: result.sha256,
      };
    });
  });
}
