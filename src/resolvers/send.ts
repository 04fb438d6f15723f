import { GliderError } from "../services/errors.js";
import type { CreateTokenInput } from "../services/tokens/types.js";
import type { CreateTransferInput } from "../services/transfers/types.js";
import type { GraphQLContext } from "./context.js";

/** The caller's sender token, as REST's bearer check reads it. */
async function sender(ctx: GraphQLContext) {
  if (!ctx.bearer) throw new GliderError("unauthorized", "a sender token is required (Authorization: Bearer …)");
  return ctx.services.tokens.authenticate(ctx.bearer);
}

/** Transfer operations are audited like their REST routes: one request record per operation. */
async function audited<T>(ctx: GraphQLContext, transferId: string, field: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  let status = 200;
  try {
    return await run();
  } catch (error) {
    status = error instanceof GliderError ? 400 : 500;
    throw error;
  } finally {
    await ctx.services.transfers
      .recordRequest({
        transferId,
        method: "POST",
        route: `graphql ${field}`,
        status,
        latencyMs: performance.now() - started,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      })
      .catch(() => undefined);
  }
}

export function transferStatus(id: string, ctx: GraphQLContext) {
  return audited(ctx, id, "Query.transfer", () => ctx.services.transfers.status(id));
}

export async function createTransfer(input: CreateTransferInput, ctx: GraphQLContext) {
  const created = await ctx.services.transfers.create(await sender(ctx), input);
  await ctx.services.transfers
    .recordRequest({
      transferId: created.transfer.id,
      method: "POST",
      route: "graphql Mutation.createTransfer",
      status: 200,
      latencyMs: 0,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
    })
    .catch(() => undefined);
  return created;
}

export async function completeTransfer(id: string, ctx: GraphQLContext) {
  const principal = await sender(ctx);
  return audited(ctx, id, "Mutation.completeTransfer", () => ctx.services.transfers.completeUpload(principal, id));
}

export function deleteTransfer(id: string, deleteAuth: string, ctx: GraphQLContext) {
  return audited(ctx, id, "Mutation.deleteTransfer", () => ctx.services.transfers.delete(id, deleteAuth));
}

export const listTransfers = (ctx: GraphQLContext) => ctx.services.transfers.list();
export const listTokens = (ctx: GraphQLContext) => ctx.services.tokens.list();
export const sendStats = (ctx: GraphQLContext) => ctx.services.transfers.stats();
export const findToken = (id: string, ctx: GraphQLContext) => ctx.services.tokens.get(id);
export const createToken = (input: CreateTokenInput, ctx: GraphQLContext) => ctx.services.tokens.create(input);
export const revokeToken = (id: string, ctx: GraphQLContext) => ctx.services.tokens.revoke(id);
