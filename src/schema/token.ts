import { resolveArrayConnection } from "@pothos/plugin-relay";
import { createToken, findToken, listTokens, revokeToken } from "../resolvers/send.js";
import type { TokenView } from "../services/send/index.js";
import { builder } from "./builder.js";
import { upperCaseValues } from "./enum-values.js";

const TokenState = builder.enumType("TokenState", {
  description: "Whether a sender token can still create transfers",
  values: upperCaseValues(["active", "revoked", "expired", "exhausted"]),
});

export const Token = builder.node(builder.objectRef<TokenView>("Token"), {
  description: "A sender token (admin only); its secret is shown once, at creation",
  authScopes: { admin: true },
  id: { resolve: (t) => t.id },
  loadWithoutCache: (id, ctx) => findToken(id, ctx),
  fields: (t) => ({
    label: t.exposeString("label", { description: "The admin's name for the token" }),
    state: t.field({ type: TokenState, description: "Whether it can still create transfers", resolve: (v) => v.state }),
    createdAt: t.field({ type: "DateTime", resolve: (v) => v.createdAt }),
    expiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "Null when it never expires",
      resolve: (v) => v.expiresAt,
    }),
    maxTransfers: t.exposeInt("maxTransfers", { description: "0 = unlimited" }),
    maxBytes: t.field({ type: "SafeInt", description: "0 = unlimited", resolve: (v) => v.maxBytes }),
    transfersUsed: t.exposeInt("transfersUsed", { description: "Transfers created with it" }),
    bytesUsed: t.field({
      type: "SafeInt",
      description: "Bytes declared by its transfers",
      resolve: (v) => v.bytesUsed,
    }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (v) => v.revokedAt }),
    lastUsedAt: t.field({ type: "DateTime", nullable: true, resolve: (v) => v.lastUsedAt }),
  }),
});

const CreateTokenPayload = builder.objectRef<{ token: TokenView; secret: string }>("CreateTokenPayload").implement({
  description: "The new token and its secret",
  fields: (t) => ({
    token: t.field({ type: Token, description: "The new token", resolve: (p) => p.token }),
    secret: t.exposeString("secret", { description: "The bearer secret; not retrievable later" }),
  }),
});

const CreateTokenInput = builder.inputType("CreateTokenInput", {
  description: "A new sender token's label and limits",
  fields: (t) => ({
    label: t.string({ required: true, description: "A name for the token" }),
    maxTransfers: t.int({ description: "Transfers it may create; 0 or absent = unlimited" }),
    maxBytes: t.field({
      type: "SafeInt",
      description: "Bytes its transfers may declare in total; 0 or absent = unlimited",
    }),
    expiresInSeconds: t.int({ description: "Lifetime; absent = never expires" }),
  }),
});

// Query#tokens (admin)
builder.queryField("tokens", (t) =>
  t.connection({
    type: Token,
    description: "Every sender token (admin)",
    authScopes: { admin: true },
    resolve: async (_root, args, ctx) => resolveArrayConnection({ args }, await listTokens(ctx)),
  }),
);

// Mutation#createToken (admin)
builder.mutationField("createToken", (t) =>
  t.field({
    type: CreateTokenPayload,
    // Input limits (label, quotas) are expected answers: DomainError results.
    errors: { directResult: true, union: { name: "CreateTokenResult", description: "The new token, or why not" } },
    description: "Issues a sender token (admin); its secret is returned once",
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateTokenInput, required: true, description: "Label and limits" }) },
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

const RevokeTokenInput = builder.inputType("RevokeTokenInput", {
  description: "The token to revoke",
  fields: (t) => ({ id: t.globalID({ for: Token, required: true, description: "The token's global id" }) }),
});

const RevokeTokenPayload = builder.objectRef<{ token: TokenView }>("RevokeTokenPayload").implement({
  description: "The revoked token",
  fields: (t) => ({
    token: t.field({ type: Token, description: "The token (state REVOKED)", resolve: (p) => p.token }),
  }),
});

// Mutation#revokeToken (admin)
builder.mutationField("revokeToken", (t) =>
  t.field({
    type: RevokeTokenPayload,
    errors: { directResult: true, union: { name: "RevokeTokenResult", description: "The revoked token, or why not" } },
    description: "Revokes a sender token (admin): it creates no more transfers",
    authScopes: { admin: true },
    args: { input: t.arg({ type: RevokeTokenInput, required: true, description: "The token" }) },
    resolve: async (_root, { input }, ctx) => ({ token: await revokeToken(input.id.id, ctx) }),
  }),
);
