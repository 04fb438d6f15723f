import type { Readable } from "node:stream";
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { clientSignal } from "../../http/client-signal.js";
import { requireMediaType } from "../../http/content-type.js";
import { readCredentials } from "../../services/credentials.js";
import type { ErrorCode } from "../../services/errors.js";
import type { Services } from "../../services/index.js";
import type { SenderPrincipal } from "../../services/send/index.js";
import { recordOutcome } from "../../services/send/index.js";
import {
  Binary,
  CROSS_ORIGIN,
  DateTime,
  described,
  errorResponses,
  INPUT,
  JSON_BODY,
  SECURITY,
  SHARED,
  STORE,
} from "../schemas.js";
import { actionJson, eventJson, transferJson, uploadJson } from "./json.js";
import {
  Action,
  AddEventBody,
  CreateTransferBody,
  DeleteTransferBody,
  Event,
  IdParams,
  Transfer,
  TransferEnvelope,
  Upload,
} from "./schemas.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The sender behind a request of the sender-token context (set by its onRequest hook). */
    sendSender: SenderPrincipal | null;
    /** The transfer a create request made, so its request record lands in the new transfer's trail. */
    createdTransferId: string | null;
  }
}

/** Every Send route reads or writes records in the system bucket, under a lock that may live in Redis. */
const SEND_STORE: ErrorCode[] = [...STORE, ...SHARED];
/** The sender-token hook's answers. */
const SENDER: ErrorCode[] = ["unauthorized", "token_revoked", "token_expired", "token_exhausted"];
/** A transfer that is gone (expired, exhausted, deleted) answers 410. */
const GONE: ErrorCode[] = ["transfer_expired", "transfer_exhausted", "transfer_deleted"];
/** Routes on one transfer: a malformed id, or none such. */
const ONE_TRANSFER: ErrorCode[] = [...INPUT, ...SEND_STORE, "transfer_not_found"];

const Public = { tags: ["Send transfers"], security: SECURITY.none };
const Sender = { tags: ["Send transfers"], security: SECURITY.senderToken };

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
export const transfersRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
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
    const transferId = (request.params as Partial<{ id: string }> | undefined)?.id ?? request.createdTransferId;
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
  await app.register(async (child) => {
    const sender = child.withTypeProvider<TypeBoxTypeProvider>();
    sender.addHook("onRequest", async (request, reply) => {
      try {
        request.sendSender = await services.tokens.authenticate(readCredentials(request).bearer);
      } catch (error) {
        closeIfBodyUnread(request, reply);
        throw error;
      }
    });

    sender.post(
      "/transfers/create",
      {
        schema: {
          ...Sender,
          operationId: "createTransfer",
          summary: "Send: create a pending transfer (counts against the sender token)",
          body: CreateTransferBody,
          response: {
            201: Type.Object(
              { transfer: Transfer, upload: Upload },
              {
                additionalProperties: false,
                description: "The transfer and where to upload (a presigned PUT URL, or this API's byte route)",
              },
            ),
            // unsupported: a download limit on a store that ignores conditional writes.
            ...errorResponses([
              ...JSON_BODY,
              ...CROSS_ORIGIN,
              ...SENDER,
              ...SEND_STORE,
              "token_quota_exceeded",
              "unsupported",
            ]),
          },
        },
      },
      async (request, reply) => {
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
      },
    );

    sender.post(
      "/transfers/id/:id/payload/upload-bytes",
      {
        config: { openapiBody: { content: { "application/octet-stream": { schema: Binary } } } },
        schema: {
          ...Sender,
          operationId: "uploadTransferPayload",
          summary:
            "Send: stream the ciphertext (a byte past the declared size ends the request with 413, nothing kept)",
          params: IdParams,
          response: {
            200: Type.Object(
              { transfer: Transfer, received_bytes: Type.Integer() },
              { additionalProperties: false, description: "Stored; complete next" },
            ),
            // forbidden: another sender's transfer; invalid_state: not pending, or an upload already running.
            ...errorResponses([
              ...ONE_TRANSFER,
              ...CROSS_ORIGIN,
              ...SENDER,
              ...GONE,
              "invalid_state",
              "payload_too_large",
              "unsupported_media_type",
            ]),
          },
        },
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

    sender.post(
      "/transfers/id/:id/upload/complete",
      {
        schema: {
          ...Sender,
          operationId: "completeTransferUpload",
          summary: "Send: check stored size = declared size (size_mismatch) and make the transfer downloadable",
          params: IdParams,
          response: {
            200: described(TransferEnvelope, "Completed"),
            ...errorResponses([
              ...ONE_TRANSFER,
              ...CROSS_ORIGIN,
              ...SENDER,
              ...GONE,
              "invalid_state",
              "payload_too_large",
              "size_mismatch",
            ]),
          },
        },
      },
      async (request) => ({
        transfer: transferJson(await transfers.completeUpload(senderOf(request), request.params.id)),
      }),
    );
  });

  app.get(
    "/transfers/id/:id/status",
    {
      schema: {
        ...Public,
        operationId: "getTransferStatus",
        summary: "Send: the transfer (410 once expired, exhausted or deleted)",
        params: IdParams,
        response: { 200: described(TransferEnvelope, "The transfer"), ...errorResponses([...ONE_TRANSFER, ...GONE]) },
      },
    },
    async (request) => ({ transfer: transferJson(await transfers.status(request.params.id)) }),
  );

  app.post(
    "/transfers/id/:id/download/create-presign-url",
    {
      schema: {
        ...Public,
        operationId: "createTransferDownloadUrl",
        summary:
          "Send: a presigned GET URL living at most 60 s; counts as a download when issued (422 without presign)",
        params: IdParams,
        response: {
          200: Type.Object(
            {
              transfer: Transfer,
              download: Type.Object(
                { method: Type.Literal("GET"), url: Type.String(), expires_at: DateTime },
                { additionalProperties: false },
              ),
            },
            { additionalProperties: false, description: "The URL" },
          ),
          // invalid_state: not completed; conflict: every remaining download is in progress.
          ...errorResponses([...ONE_TRANSFER, ...CROSS_ORIGIN, ...GONE, "invalid_state", "conflict", "unsupported"]),
        },
      },
    },
    async (request) => {
      const download = await transfers.createDownloadUrl(request.params.id);
      return {
        transfer: transferJson(download.transfer),
        download: { method: "GET" as const, url: download.url, expires_at: download.expiresAt.toISOString() },
      };
    },
  );

  app.get(
    "/transfers/id/:id/payload/download-bytes",
    {
      // No automatic HEAD twin: it would run the download (and count it) while sending no body.
      exposeHeadRoute: false,
      schema: {
        ...Public,
        operationId: "downloadTransferPayload",
        summary: "Send: stream the ciphertext; counts when the last byte is sent, not when the client aborts",
        params: IdParams,
        response: {
          200: {
            description: "The payload (Content-Length, Content-Disposition attachment)",
            content: { "application/octet-stream": { schema: Binary } },
          },
          ...errorResponses([...ONE_TRANSFER, ...GONE, "invalid_state", "conflict", "unsupported"]),
        },
      },
    },
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

  app.post(
    "/transfers/id/:id/delete",
    {
      schema: {
        ...Public,
        operationId: "deleteTransfer",
        summary: "Send: delete the transfer and its payload with the secret whose SHA-256 was delete_auth_hash",
        params: IdParams,
        body: DeleteTransferBody,
        response: {
          200: described(TransferEnvelope, "Deleted"),
          // forbidden: a wrong secret, or a transfer created without one.
          ...errorResponses([...ONE_TRANSFER, ...JSON_BODY, ...CROSS_ORIGIN, "forbidden"]),
        },
      },
    },
    async (request) => ({
      transfer: transferJson(await transfers.delete(request.params.id, request.body.delete_auth)),
    }),
  );

  app.post(
    "/transfers/id/:id/events/add",
    {
      schema: {
        ...Public,
        operationId: "addTransferEvent",
        summary: "Send: record a client event",
        params: IdParams,
        body: AddEventBody,
        response: {
          201: Type.Object({ event: Event }, { additionalProperties: false, description: "Recorded" }),
          // conflict: the transfer holds its most events.
          ...errorResponses([...ONE_TRANSFER, ...JSON_BODY, ...CROSS_ORIGIN, "conflict"]),
        },
      },
    },
    async (request, reply) => {
      const event = await transfers.addEvent(request.params.id, { type: request.body.type, data: request.body.data });
      return reply.status(201).send({ event: eventJson(event) });
    },
  );

  app.get(
    "/transfers/id/:id/events/list",
    {
      schema: {
        ...Public,
        operationId: "listTransferEvents",
        summary: "Send: the transfer's client events in time order",
        params: IdParams,
        response: {
          200: Type.Object({ events: Type.Array(Event) }, { additionalProperties: false, description: "Events" }),
          ...errorResponses(ONE_TRANSFER),
        },
      },
    },
    async (request) => ({ events: (await transfers.listEvents(request.params.id)).map(eventJson) }),
  );

  app.get(
    "/transfers/id/:id/actions/list",
    {
      schema: {
        ...Public,
        operationId: "listTransferActions",
        summary: "Send: what happened to the transfer, in time order (token ids hidden)",
        params: IdParams,
        response: {
          200: Type.Object({ actions: Type.Array(Action) }, { additionalProperties: false, description: "Actions" }),
          ...errorResponses(ONE_TRANSFER),
        },
      },
    },
    async (request) => ({ actions: (await transfers.listActions(request.params.id)).map(actionJson) }),
  );
};
