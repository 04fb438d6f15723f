import { resolveArrayConnection } from "@pothos/plugin-relay";
import {
  completeTransfer,
  createTransfer,
  deleteTransfer,
  listTransfers,
  sendStats,
  transferStatus,
} from "../resolvers/send.js";
import type { SendStats, TransferView, UploadTarget } from "../services/send/index.js";
import { builder } from "./builder.js";

const TransferStatus = builder.enumType("TransferStatus", {
  values: ["pending", "uploaded", "completed", "exhausted", "expired", "deleted"] as const,
});

const PayloadMode = builder.enumType("PayloadMode", { values: ["presigned", "bytes"] as const });

export const Transfer = builder.node(builder.objectRef<TransferView>("Transfer"), {
  description: "A client-encrypted Send transfer; Glider stores opaque bytes and never sees keys",
  id: { resolve: (t) => t.id },
  loadWithoutCache: (id, ctx) => transferStatus(id, ctx),
  fields: (t) => ({
    transferId: t.exposeString("id"),
    status: t.field({ type: TransferStatus, resolve: (v) => v.status }),
    mode: t.field({ type: PayloadMode, resolve: (v) => v.mode }),
    size: t.field({ type: "SafeInt", resolve: (v) => v.size }),
    contentType: t.exposeString("contentType"),
    createdAt: t.field({ type: "DateTime", resolve: (v) => v.createdAt }),
    updatedAt: t.field({ type: "DateTime", resolve: (v) => v.updatedAt }),
    expiresAt: t.field({ type: "DateTime", resolve: (v) => v.expiresAt }),
    completedAt: t.field({ type: "DateTime", nullable: true, resolve: (v) => v.completedAt }),
    maxDownloads: t.exposeInt("maxDownloads", { description: "0 = unlimited" }),
    downloads: t.exposeInt("downloads"),
    downloadsRemaining: t.exposeInt("downloadsRemaining", { nullable: true }),
    deletable: t.exposeBoolean("deletable"),
  }),
});

const UploadInstructions = builder.objectRef<UploadTarget>("UploadInstructions").implement({
  description: "Where the sender puts the ciphertext: a presigned PUT, or the byte route",
  fields: (t) => ({
    mode: t.field({ type: PayloadMode, resolve: (u) => u.mode }),
    method: t.string({ nullable: true, resolve: (u) => (u.mode === "presigned" ? u.method : null) }),
    url: t.string({ nullable: true, resolve: (u) => (u.mode === "presigned" ? u.url : null) }),
    expiresAt: t.field({
      type: "DateTime",
      nullable: true,
      resolve: (u) => (u.mode === "presigned" ? u.expiresAt : null),
    }),
  }),
});

const CreateTransferPayload = builder
  .objectRef<{ transfer: TransferView; upload: UploadTarget }>("CreateTransferPayload")
  .implement({
    fields: (t) => ({
      transfer: t.field({ type: Transfer, resolve: (p) => p.transfer }),
      upload: t.field({ type: UploadInstructions, resolve: (p) => p.upload }),
    }),
  });

const CreateTransferInput = builder.inputType("CreateTransferInput", {
  fields: (t) => ({
    size: t.field({ type: "SafeInt", required: true }),
    contentType: t.string(),
    maxDownloads: t.int({ description: "0 = unlimited; default 1" }),
    expiresInSeconds: t.int(),
    deleteAuthHash: t.string({ description: "SHA-256 (hex) of the secret that later deletes the transfer" }),
  }),
});

const SendStatsRef = builder.objectRef<SendStats>("SendStats").implement({
  fields: (t) => ({
    generatedAt: t.field({ type: "DateTime", resolve: (s) => s.generatedAt }),
    transfers: t.field({ type: "SafeInt", resolve: (s) => s.transfers.total }),
    bytesStored: t.field({ type: "SafeInt", resolve: (s) => s.transfers.bytesStored }),
    downloads: t.field({ type: "SafeInt", resolve: (s) => s.transfers.downloads }),
    downloadsInProgress: t.field({ type: "SafeInt", resolve: (s) => s.transfers.downloadsInProgress }),
    tokens: t.field({ type: "SafeInt", resolve: (s) => s.tokens.total }),
    byStatus: t.string({
      description: "JSON object: transfer count per status",
      resolve: (s) => JSON.stringify(s.transfers.byStatus),
    }),
  }),
});

// Query#transfer: public by id, as REST's status route
builder.queryField("transfer", (t) =>
  t.field({
    type: Transfer,
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => transferStatus(args.id, ctx),
  }),
);

// Query#transfers (admin)
builder.queryField("transfers", (t) =>
  t.connection({
    type: Transfer,
    authScopes: { admin: true },
    resolve: async (_root, args, ctx) => resolveArrayConnection({ args }, await listTransfers(ctx)),
  }),
);

// Query#stats (admin)
builder.queryField("stats", (t) =>
  t.field({ type: SendStatsRef, authScopes: { admin: true }, resolve: (_root, _args, ctx) => sendStats(ctx) }),
);

// Mutation#createTransfer (sender token)
builder.mutationField("createTransfer", (t) =>
  t.field({
    type: CreateTransferPayload,
    args: { input: t.arg({ type: CreateTransferInput, required: true }) },
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

// Mutation#completeTransfer (sender token)
builder.mutationField("completeTransfer", (t) =>
  t.field({
    type: Transfer,
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => completeTransfer(args.id, ctx),
  }),
);

// Mutation#deleteTransfer (delete secret)
builder.mutationField("deleteTransfer", (t) =>
  t.field({
    type: Transfer,
    args: { id: t.arg.string({ required: true }), deleteAuth: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => deleteTransfer(args.id, args.deleteAuth, ctx),
  }),
);
