import { resolveArrayConnection } from "@pothos/plugin-relay";
import { createToken, findToken, listTokens, revokeToken } from "../resolvers/send.js";
import type { TokenView } from "../services/send/index.js";
import { builder } from "./builder.js";

const TokenState = builder.enumType("TokenState", {
  values: ["active", "revoked", "expired", "exhausted"] as const,
});

export const Token = builder.node(builder.objectRef<TokenView>("Token"), {
  description: "A sender token (admin only); its secret is shown once, at creation",
  authScopes: { admin: true },
  id: { resolve: (t) => t.id },
  loadWithoutCache: (id, ctx) => findToken(id, ctx),
  fields: (t) => ({
    tokenId: t.exposeString("id"),
    label: t.exposeString("label"),
    state: t.field({ type: TokenState, resolve: (v) => v.state }),
    createdAt: t.field({ type: "DateTime", resolve: (v) => v.createdAt }),
    expiresAt: t.field({ type: "DateTime", nullable: true, resolve: (v) => v.expiresAt }),
    maxTransfers: t.exposeInt("maxTransfers", { description: "0 = unlimited" }),
    maxBytes: t.field({ type: "SafeInt", description: "0 = unlimited", resolve: (v) => v.maxBytes }),
    transfersUsed: t.exposeInt("transfersUsed"),
    bytesUsed: t.field({ type: "SafeInt", resolve: (v) => v.bytesUsed }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (v) => v.revokedAt }),
    lastUsedAt: t.field({ type: "DateTime", nullable: true, resolve: (v) => v.lastUsedAt }),
  }),
});

const CreateTokenPayload = builder.objectRef<{ token: TokenView; secret: string }>("CreateTokenPayload").implement({
  fields: (t) => ({
    token: t.field({ type: Token, resolve: (p) => p.token }),
    secret: t.exposeString("secret", { description: "The bearer secret; not retrievable later" }),
  }),
});

const CreateTokenInput = builder.inputType("CreateTokenInput", {
  fields: (t) => ({
    label: t.string({ required: true }),
    maxTransfers: t.int(),
    maxBytes: t.field({ type: "SafeInt" }),
    expiresInSeconds: t.int(),
  }),
});

// Query#tokens (admin)
builder.queryField("tokens", (t) =>
  t.connection({
    type: Token,
    authScopes: { admin: true },
    resolve: async (_root, args, ctx) => resolveArrayConnection({ args }, await listTokens(ctx)),
  }),
);

// Mutation#createToken (admin)
builder.mutationField("createToken", (t) =>
  t.field({
    type: CreateTokenPayload,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createToken(
        {
          label: input.label,
          maxTransfers: input.maxTransfers ?? undefined,
          maxBytes: input.maxBytes ?? undefined,
          expiresInSeconds: input.expiresInSeconds ?? undefined,
        },
        ctx,
      ),
  }),
);

// Mutation#revokeToken (admin)
builder.mutationField("revokeToken", (t) =>
  t.field({
    type: Token,
    authScopes: { admin: true },
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => revokeToken(args.id, ctx),
  }),
);
