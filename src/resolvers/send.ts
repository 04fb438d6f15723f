import { type ErrorCode, isGliderError } from "../services/errors.js";
import type { CreateTokenInput, CreateTransferInput } from "../services/send/index.js";
import { audited } from "../services/send/index.js";
import type { GraphQLContext } from "./context.js";

/** The caller's sender token: the bearer REST reads, checked by the same service call. */
function sender(ctx: GraphQLContext) {
  return ctx.services.tokens.authenticate(ctx.credentials.bearer);
}

/** Request facts for the audit trail: as REST's, with the field in place of the route pattern. */
function facts(ctx: GraphQLContext, field: string, transferId?: string) {
  return { transferId, method: "POST", route: `graphql ${field}`, ip: ctx.ip, userAgent: ctx.credentials.userAgent };
}

/** `code`'s error becomes null: a lookup of something that does not exist answers null, not an error. */
async function orNull<T>(code: ErrorCode, run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (error) {
    if (isGliderError(error) && error.code === code) return null;
    throw error;
  }
}

/** The REST byte route a GraphQL sender uploads to (the service only says "bytes"). */
export const byteUploadUrl = (id: string) => `/api/transfers/id/${id}/payload/upload-bytes`;

/** Query#transfer: audited as REST's status route (a miss included), but null instead of an error. */
export function transferStatus(id: string, ctx: GraphQLContext) {
  return orNull("transfer_not_found", () =>
    audited(ctx.services.transfers, facts(ctx, "Query.transfer", id), () => ctx.services.transfers.status(id)),
  );
}

/** The Transfer node's loader: a read, not a request on the transfer's route, so it leaves no audit record. */
export function findTransfer(id: string, ctx: GraphQLContext) {
  return orNull("transfer_not_found", () => ctx.services.transfers.view(id));
}

export async function createTransfer(input: CreateTransferInput, ctx: GraphQLContext) {
  const principal = await sender(ctx);
  return audited(
    ctx.services.transfers,
    facts(ctx, "Mutation.createTransfer"),
    () => ctx.services.transfers.create(principal, input),
    (created) => created.transfer.id,
  );
}

export async function completeTransfer(id: string, ctx: GraphQLContext) {
  return audited(ctx.services.transfers, facts(ctx, "Mutation.completeTransfer", id), async () =>
    ctx.services.transfers.completeUpload(await sender(ctx), id),
  );
}

export function deleteTransfer(id: string, deleteAuth: string, ctx: GraphQLContext) {
  return audited(ctx.services.transfers, facts(ctx, "Mutation.deleteTransfer", id), () =>
    ctx.services.transfers.delete(id, deleteAuth),
  );
}

export const listTransfers = (ctx: GraphQLContext) => ctx.services.transfers.list();
export const listTokens = (ctx: GraphQLContext) => ctx.services.tokens.list();
export const sendStats = (ctx: GraphQLContext) => ctx.services.transfers.stats();
export const findToken = (id: string, ctx: GraphQLContext) =>
  orNull("token_not_found", () => ctx.services.tokens.get(id));
export const createToken = (input: CreateTokenInput, ctx: GraphQLContext) => ctx.services.tokens.create(input);
export const revokeToken = (id: string, ctx: GraphQLContext) => ctx.services.tokens.revoke(id);
