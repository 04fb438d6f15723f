import { resolveArrayConnection } from "@pothos/plugin-relay";
import {
  byteUploadUrl,
  completeTransfer,
  createTransfer,
  deleteTransfer,
  findTransfer,
  listTransfers,
  sendStats,
  transferStatus,
} from "../resolvers/send.js";
import {
  type SendStats,
  TRANSFER_STATUSES,
  type TransferStatus as TransferStatusValue,
  type TransferView,
  type UploadTarget,
} from "../services/send/index.js";
import { builder } from "./builder.js";
import { upperCaseValues } from "./enum-values.js";

const TransferStatus = builder.enumType("TransferStatus", {
  description: "Where a transfer is in its life",
  values: upperCaseValues(TRANSFER_STATUSES),
});

const PayloadMode = builder.enumType("PayloadMode", {
  description: "How the ciphertext travels: a presigned S3 URL or Glider's byte routes",
  values: upperCaseValues(["presigned", "bytes"]),
});

export const Transfer = builder.node(builder.objectRef<TransferView>("Transfer"), {
  description: "A client-encrypted Send transfer; Glider stores opaque bytes and never sees keys",
  id: { resolve: (t) => t.id },
  loadWithoutCache: (id, ctx) => findTransfer(id, ctx),
  fields: (t) => ({
    transferId: t.exposeString("id", {
      description: "The REST id, for the byte routes and share links (`/api/transfers/id/{transferId}/…`)",
      deprecationReason: "GraphQL arguments take the global `id`; only REST routes need this one",
    }),
    status: t.field({
      type: TransferStatus,
      description: "Where the transfer is in its life",
      resolve: (v) => v.status,
    }),
    mode: t.field({
      type: PayloadMode,
      description: "How the ciphertext is uploaded and downloaded",
      resolve: (v) => v.mode,
    }),
    size: t.field({
      type: "SafeInt",
      description: "Ciphertext bytes, as declared at creation",
      resolve: (v) => v.size,
    }),
    contentType: t.exposeString("contentType", { description: "The media type the sender declared" }),
    createdAt: t.field({ type: "DateTime", resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: "DateTime", resolve: (v) => v.updatedAt }),
    expiresAt: t.field({
      type: "DateTime",
      description: "After this instant the transfer is expired and its payload swept",
      resolve: (v) => v.expiresAt,
    }),
    completedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the upload was completed",
      resolve: (v) => v.completedAt,
    }),
    maxDownloads: t.exposeInt("maxDownloads", { description: "0 = unlimited" }),
    downloads: t.exposeInt("downloads", { description: "Finished downloads so far" }),
    downloadsRemaining: t.exposeInt("downloadsRemaining", { nullable: true, description: "Null when unlimited" }),
    deletable: t.exposeBoolean("deletable", { description: "A delete secret was set at creation" }),
  }),
});

type Presigned = Extract<UploadTarget, { mode: "presigned" }>;
/** The byte route of one transfer: the service says "bytes", the front door knows the route. */
interface ByteRoute {
  mode: "bytes";
  url: string;
}

const PresignedUpload = builder.objectRef<Presigned>("PresignedUpload").implement({
  description: "Upload the ciphertext straight to the object store with this presigned request",
  fields: (t) => ({
    method: t.exposeString("method", { description: "HTTP method for `url`" }),
    url: t.exposeString("url", { description: "The presigned upload URL" }),
    expiresAt: t.field({
      type: "DateTime",
      description: "After this instant `url` is refused",
      resolve: (u) => u.expiresAt,
    }),
  }),
});

const ByteUpload = builder.objectRef<ByteRoute>("ByteUpload").implement({
  description: "POST the ciphertext (application/octet-stream, with the sender token) to Glider's byte route",
  fields: (t) => ({
    url: t.exposeString("url", { description: "The REST byte route (relative to this server)" }),
  }),
});

const UploadInstructions = builder.unionType("UploadInstructions", {
  description: "Where the sender puts the ciphertext: a presigned PUT, or the byte route",
  types: [PresignedUpload, ByteUpload],
  resolveType: (u) => (u.mode === "presigned" ? PresignedUpload : ByteUpload),
});

const CreateTransferPayload = builder
  .objectRef<{ transfer: TransferView; upload: UploadTarget }>("CreateTransferPayload")
  .implement({
    description: "The new transfer and where to upload its ciphertext",
    fields: (t) => ({
      transfer: t.field({
        type: Transfer,
        description: "The new transfer, pending upload",
        resolve: (p) => p.transfer,
      }),
      upload: t.field({
        type: UploadInstructions,
        description: "Where to upload the ciphertext",
        resolve: (p) =>
          p.upload.mode === "presigned" ? p.upload : { mode: "bytes" as const, url: byteUploadUrl(p.transfer.id) },
      }),
    }),
  });

const CreateTransferInput = builder.inputType("CreateTransferInput", {
  description: "A new transfer's declared size and limits",
  fields: (t) => ({
    size: t.field({ type: "SafeInt", required: true, description: "Ciphertext bytes the sender will upload" }),
    contentType: t.string({ description: "Media type of the ciphertext; application/octet-stream when absent" }),
    maxDownloads: t.int({ description: "0 = unlimited; default 1" }),
    expiresInSeconds: t.int({ description: "Lifetime; the server's default when absent" }),
    deleteAuthHash: t.string({ description: "SHA-256 (hex) of the secret that later deletes the transfer" }),
  }),
});

const StatusCount = builder.objectRef<{ status: TransferStatusValue; count: number }>("TransferStatusCount").implement({
  description: "How many transfers are in one status",
  fields: (t) => ({
    status: t.field({ type: TransferStatus, description: "The status", resolve: (c) => c.status }),
    count: t.field({ type: "SafeInt", description: "Transfers in it", resolve: (c) => c.count }),
  }),
});

const SendStatsRef = builder.objectRef<SendStats>("SendStats").implement({
  description: "Send's totals, as REST's admin stats route",
  fields: (t) => ({
    generatedAt: t.field({
      type: "DateTime",
      description: "When these figures were read",
      resolve: (s) => s.generatedAt,
    }),
    transfers: t.field({ type: "SafeInt", description: "Transfers on record", resolve: (s) => s.transfers.total }),
    bytesStored: t.field({
      type: "SafeInt",
      description: "Ciphertext bytes currently stored",
      resolve: (s) => s.transfers.bytesStored,
    }),
    downloads: t.field({ type: "SafeInt", description: "Finished downloads", resolve: (s) => s.transfers.downloads }),
    downloadsInProgress: t.field({
      type: "SafeInt",
      description: "Downloads streaming now",
      resolve: (s) => s.transfers.downloadsInProgress,
    }),
    tokens: t.field({ type: "SafeInt", description: "Sender tokens on record", resolve: (s) => s.tokens.total }),
    byStatus: t.field({
      type: [StatusCount],
      description: "Transfers per status, every status listed (zero counts included)",
      resolve: (s) => TRANSFER_STATUSES.map((status) => ({ status, count: s.transfers.byStatus[status] })),
    }),
  }),
});

// Query#transfer: public by id, as REST's status route
builder.queryField("transfer", (t) =>
  t.field({
    type: Transfer,
    nullable: true,
    description: "A transfer's public status, as REST's status route (no credentials); null when it does not exist",
    args: { id: t.arg.globalID({ for: Transfer, required: true, description: "The transfer's global id" }) },
    resolve: (_root, args, ctx) => transferStatus(args.id.id, ctx),
  }),
);

// Query#transfers (admin)
builder.queryField("transfers", (t) =>
  t.connection({
    type: Transfer,
    description: "Every transfer (admin)",
    authScopes: { admin: true },
    resolve: async (_root, args, ctx) => resolveArrayConnection({ args }, await listTransfers(ctx)),
  }),
);

// Query#stats (admin)
builder.queryField("stats", (t) =>
  t.field({
    type: SendStatsRef,
    description: "Send's totals (admin)",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => sendStats(ctx),
  }),
);

// Mutation#createTransfer (sender token)
builder.mutationField("createTransfer", (t) =>
  t.field({
    type: CreateTransferPayload,
    // Token refusals (revoked, expired, over quota) and input limits are expected answers: DomainError results.
    errors: {
      directResult: true,
      union: { name: "CreateTransferResult", description: "The new transfer, or why not" },
    },
    description: "Creates a transfer for the caller's sender token (bearer); upload the ciphertext next",
    args: { input: t.arg({ type: CreateTransferInput, required: true, description: "Size and limits" }) },
    resolve: (_root, { input }, ctx) =>
      createTransfer(
        {
          size: input.size,
          contentType: input.contentType ?? undefined,
          maxDownloads: input.maxDownloads ?? undefined,
          expiresInSeconds: input.expiresInSeconds ?? undefined,
          deleteAuthHash: input.deleteAuthHash ?? undefined,
        },
        ctx,
      ),
  }),
);

/** A mutation's payload holding the transfer it changed. */
function TransferPayload(name: string, description: string) {
  return builder.objectRef<{ transfer: TransferView }>(name).implement({
    description,
    fields: (t) => ({ transfer: t.field({ type: Transfer, description: "The transfer", resolve: (p) => p.transfer }) }),
  });
}

const CompleteTransferInput = builder.inputType("CompleteTransferInput", {
  description: "The transfer whose upload is complete",
  fields: (t) => ({ id: t.globalID({ for: Transfer, required: true, description: "The transfer's global id" }) }),
});

const DeleteTransferInput = builder.inputType("DeleteTransferInput", {
  description: "The transfer to delete and the secret that allows it",
  fields: (t) => ({
    id: t.globalID({ for: Transfer, required: true, description: "The transfer's global id" }),
    deleteAuth: t.string({ required: true, description: "The delete secret (not its hash)" }),
  }),
});

// Mutation#completeTransfer (sender token)
builder.mutationField("completeTransfer", (t) =>
  t.field({
    type: TransferPayload("CompleteTransferPayload", "The completed transfer"),
    errors: {
      directResult: true,
      union: { name: "CompleteTransferResult", description: "The completed transfer, or why it is not complete" },
    },
    description: "Marks an uploaded transfer complete, so it can be downloaded (the sender token that created it)",
    args: { input: t.arg({ type: CompleteTransferInput, required: true, description: "The transfer" }) },
    resolve: async (_root, { input }, ctx) => ({ transfer: await completeTransfer(input.id.id, ctx) }),
  }),
);

// Mutation#deleteTransfer (delete secret)
builder.mutationField("deleteTransfer", (t) =>
  t.field({
    type: TransferPayload("DeleteTransferPayload", "The deleted transfer (status DELETED)"),
    // A wrong secret or a transfer already gone is an expected answer: a DomainError in the result union.
    errors: {
      directResult: true,
      union: { name: "DeleteTransferResult", description: "The deleted transfer, or why it was not deleted" },
    },
    description: "Deletes a transfer and its payload, with the secret whose hash was given at creation",
    args: { input: t.arg({ type: DeleteTransferInput, required: true, description: "The transfer and its secret" }) },
    resolve: async (_root, { input }, ctx) => ({
      transfer: await deleteTransfer(input.id.id, input.deleteAuth, ctx),
    }),
  }),
);
