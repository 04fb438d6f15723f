import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { clientSignal } from "../../http/client-signal.js";
import { requireMediaType } from "../../http/content-type.js";
import { readCredentials } from "../../services/credentials.js";
import type { Services } from "../../services/index.js";
import type { SenderPrincipal } from "../../services/send/index.js";
import { recordOutcome } from "../../services/send/index.js";
import { actionJson, eventJson, transferJson, uploadJson } from "./json.js";
import { schemas } from "./schemas.js";

interface IdParams {
  id: string;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The sender behind a request of the sender-token context (set by its onRequest hook). */
    sendSender: SenderPrincipal | null;
    /** The transfer a create request made, so its request record lands in the new transfer's trail. */
    createdTransferId: string | null;
  }
}

function senderOf(request: FastifyRequest): SenderPrincipal {
  if (!request.sendSender) throw new Error("sender route without the sender hook");
  return request.sendSender;
}

/** When we answer before reading the whole body, close the connection instead of draining up to 100 MB. */
function closeIfBodyUnread(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.readableEnded && request.headers["content-length"] !== "0") reply.header("connection", "close");
}

/**
 * Public Send routes (prefix `/api`): anyone holding a transfer id may read its status, download and add events;
 * creating and uploading need a sender token. Every request that names an existing transfer leaves a request
 * record in its audit trail.
 */
export async function transfersRoutes(app: FastifyInstance, { services }: { services: Services }) {
  const transfers = services.transfers;
  const base = app.prefix;
  // Server start-up: the system bucket exists before the first request, the sweeper runs (idempotent).
  app.addHook("onReady", () => transfers.start());

  // Payload bytes reach the handler as the raw request stream (no buffering, so no bodyLimit): the service
  // counts them into storage and stops at SEND_MAX_BYTES.
  app.addContentTypeParser("application/octet-stream", (_request, payload, done) => done(null, payload));

  app.decorateRequest("sendSender", null);
  app.decorateRequest("createdTransferId", null);
  // The answer's status came from the error table GraphQL records with too (services/errors.ts).
  app.addHook("onResponse", async (request, reply) => {
    const transferId = (request.params as Partial<IdParams> | undefined)?.id ?? request.createdTransferId;
    if (!transferId) return;
    await recordOutcome(
      transfers,
      {
        transferId,
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        latencyMs: reply.elapsedTime,
        ip: request.ip,
        userAgent: readCredentials(request).userAgent,
      },
      { status: reply.statusCode },
      (error) => request.log.error({ err: error }, "could not write the audit request record"),
    );
  });

  // Sender-token routes: a child context whose onRequest hook authenticates before any body is read.
  await app.register(async (sender) => {
    sender.addHook("onRequest", async (request, reply) => {
      try {
        request.sendSender = await services.tokens.authenticate(readCredentials(request).bearer);
      } catch (error) {
        closeIfBodyUnread(request, reply);
        throw error;
      }
    });

    sender.post<{
      Body: {
        size: number;
        content_type?: string;
        max_downloads?: number;
        expires_in_seconds?: number;
        delete_auth_hash?: string;
      };
    }>("/transfers/create", { schema: schemas.createTransfer }, async (request, reply) => {
      const body = request.body;
      const created = await transfers.create(senderOf(request), {
        size: body.size,
        contentType: body.content_type,
        maxDownloads: body.max_downloads,
        expiresInSeconds: body.expires_in_seconds,
        deleteAuthHash: body.delete_auth_hash,
      });
      request.createdTransferId = created.transfer.id;
      return reply.status(201).send({
        transfer: transferJson(created.transfer),
        upload: uploadJson(created.upload, created.transfer.id, base),
      });
    });

    sender.post<{ Params: IdParams }>(
      "/transfers/id/:id/payload/upload-bytes",
      {
        schema: schemas.uploadBytes,
        onRequest: async (request, reply) => {
          try {
            await requireMediaType("application/octet-stream")(request);
          } catch (error) {
            closeIfBodyUnread(request, reply);
            throw error;
          }
        },
      },
      async (request, reply) => {
        try {
          const result = await transfers.uploadBytes(
            senderOf(request),
            request.params.id,
            request.body as Readable,
            clientSignal(reply),
          );
          return { transfer: transferJson(result.transfer), received_bytes: result.receivedBytes };
        } catch (error) {
          closeIfBodyUnread(request, reply);
          throw error;
        }
      },
    );

    sender.post<{ Params: IdParams }>(
      "/transfers/id/:id/upload/complete",
      { schema: schemas.transferOnly },
      async (request) => ({
        transfer: transferJson(await transfers.completeUpload(senderOf(request), request.params.id)),
      }),
    );
  });

  app.get<{ Params: IdParams }>("/transfers/id/:id/status", { schema: schemas.transferOnly }, async (request) => ({
    transfer: transferJson(await transfers.status(request.params.id)),
  }));

  app.post<{ Params: IdParams }>(
    "/transfers/id/:id/download/create-presign-url",
    { schema: schemas.downloadUrl },
    async (request) => {
      const download = await transfers.createDownloadUrl(request.params.id);
      return {
        transfer: transferJson(download.transfer),
        download: { method: "GET", url: download.url, expires_at: download.expiresAt.toISOString() },
      };
    },
  );

  app.get<{ Params: IdParams }>(
    "/transfers/id/:id/payload/download-bytes",
    // No automatic HEAD twin: it would run the download (and count it) while sending no body.
    { schema: schemas.downloadBytes, exposeHeadRoute: false },
    async (request, reply) => {
      const download = await transfers.openDownload(request.params.id, clientSignal(reply));
      // fastify pipes the stream with backpressure and destroys it if the client goes away (which releases the
      // download slot: see ByteDownload.body).
      return reply
        .header("content-type", download.contentType)
        .header("content-length", String(download.contentLength))
        .header("content-disposition", "attachment")
        .header("cache-control", "no-store")
        .send(download.body);
    },
  );

  app.post<{ Params: IdParams; Body: { delete_auth: string } }>(
    "/transfers/id/:id/delete",
    { schema: schemas.deleteTransfer },
    async (request) => ({
      transfer: transferJson(await transfers.delete(request.params.id, request.body.delete_auth)),
    }),
  );

  app.post<{ Params: IdParams; Body: { type: string; data?: Record<string, unknown> } }>(
    "/transfers/id/:id/events/add",
    { schema: schemas.addEvent },
    async (request, reply) => {
      const event = await transfers.addEvent(request.params.id, { type: request.body.type, data: request.body.data });
      return reply.status(201).send({ event: eventJson(event) });
    },
  );

  app.get<{ Params: IdParams }>("/transfers/id/:id/events/list", { schema: schemas.listEvents }, async (request) => ({
    events: (await transfers.listEvents(request.params.id)).map(eventJson),
  }));

  app.get<{ Params: IdParams }>("/transfers/id/:id/actions/list", { schema: schemas.listActions }, async (request) => ({
    actions: (await transfers.listActions(request.params.id)).map(actionJson),
  }));
}
