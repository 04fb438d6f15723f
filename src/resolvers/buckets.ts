import type { BucketFigures } from "../services/buckets/service.js";
import type { GraphQLContext } from "./context.js";

export interface BucketShape {
  name: string;
  /** The bucket's view, read once per resolved bucket for its several figure fields. */
  view?: Promise<BucketFigures>;
}

export async function listBuckets(ctx: GraphQLContext): Promise<BucketShape[]> {
  return (await ctx.services.objects.buckets(ctx.signal)).map(({ name }) => ({ name }));
}

export async function findBucket(name: string, ctx: GraphQLContext): Promise<BucketShape | null> {
  return (await ctx.loaders.bucket.load(name)) ? { name } : null;
}

/**
 * The buckets service's one bucket-plus-savings view (REST's bucket JSON shows the same): `figures` is null until
 * something was computed, `pending` whether a scan runs.
 */
export async function bucketSavings(bucket: BucketShape, ctx: GraphQLContext) {
  bucket.view ??= ctx.services.buckets.view(bucket.name);
  const view = await bucket.view;
  return { pending: view.pending, figures: view.loaded ? view : undefined };
}

/** The savings service checks the bucket (hidden or missing: bucket_not_found). */
export function startSavings(bucket: string, ctx: GraphQLContext) {
  return ctx.services.savings.start(bucket);
}

export function watchSavings(bucket: string, ctx: GraphQLContext) {
  return ctx.services.savings.follow(bucket, ctx.signal);
}
