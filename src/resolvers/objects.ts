import { GliderError } from "../services/errors.js";
import type { ObjectDetails, ObjectRow } from "../services/objects/service.js";
import { parseSort } from "../services/objects/service.js";
import type { GraphQLContext } from "./context.js";

/** A listed object (rows carry their bucket: GraphQL needs it for ids and follow-up loads). */
export type StoredObjectShape = ObjectRow | ObjectDetails;

export interface ObjectsArgs {
  prefix?: string | null;
  first?: number | null;
  after?: string | null;
  /** `name_asc`, `size_desc`, … (the ObjectSort enum's values). */
  sort?: string | null;
  compressed?: boolean | null;
  search?: string | null;
}

export async function listBucketObjects(bucket: string, args: ObjectsArgs, ctx: GraphQLContext) {
  const page = await ctx.services.objects.listObjects(
    {
      bucket,
      prefix: args.prefix ?? undefined,
      limit: args.first ?? undefined,
      cursor: args.after ?? undefined,
      ...(args.sort ? parseSort(args.sort, undefined) : {}),
      compressed: args.compressed ?? undefined,
      search: args.search ?? undefined,
    },
    ctx.ip,
    ctx.signal,
  );
  // Cursors are HMAC-signed: sign only those the query selects (a 200-row page rarely asks for more than one).
  const edges = page.objects.map((row, i) => ({
    get cursor() {
      return page.cursorAt(i);
    },
    node: row,
  }));
  const last = edges.length - 1;
  return {
    edges,
    commonPrefixes: page.commonPrefixes,
    totalCount: page.total,
    pageInfo: {
      hasNextPage: page.cursor !== undefined,
      hasPreviousPage: Boolean(args.after),
      get startCursor() {
        return last >= 0 ? page.cursorAt(0) : null;
      },
      get endCursor() {
        return last >= 0 ? page.cursorAt(last) : null;
      },
    },
  };
}

export async function findObject(bucket: string, key: string, ctx: GraphQLContext): Promise<StoredObjectShape | null> {
  const object = await ctx.loaders.object.load({ bucket, key });
  return object ?? null;
}

export async function objectSha256(object: StoredObjectShape, ctx: GraphQLContext): Promise<string | null> {
  if ("kind" in object) return object.sha256 ?? null;
  return (await ctx.loaders.details.load({ bucket: object.bucket, row: object })).sha256 ?? null;
}

export async function deleteObject(bucket: string, key: string, ctx: GraphQLContext): Promise<boolean> {
  await ctx.services.objects.delete(bucket, key, ctx.signal);
  ctx.loaders.object.clear({ bucket, key });
  return true;
}

export async function prepareDownload(bucket: string, key: string, ctx: GraphQLContext) {
  const ticket = await ctx.services.downloads.prepare(bucket, key, ctx.signal);
  return { ...ticket, url: `/api/download/${ticket.token}` };
}

/** Relay ids of objects carry bucket and key. */
export function objectId(object: { bucket: string; key: string }): string {
  return JSON.stringify([object.bucket, object.key]);
}

export function parseObjectId(id: string): { bucket: string; key: string } {
  try {
    const [bucket, key] = JSON.parse(id) as unknown[];
    if (typeof bucket === "string" && typeof key === "string") return { bucket, key };
  } catch {
    // fall through
  }
  throw new GliderError("invalid_request", "not a StoredObject id", { id });
}
