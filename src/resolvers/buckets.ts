import type { GraphQLContext } from "./context.js";

export interface BucketShape {
  name: string;
}

export async function listBuckets(ctx: GraphQLContext): Promise<BucketShape[]> {
  return (await ctx.services.objects.buckets(ctx.signal)).map(({ name }) => ({ name }));
}

export async function findBucket(name: string, ctx: GraphQLContext): Promise<BucketShape | null> {
  return (await ctx.loaders.bucket.load(name)) ? { name } : null;
}

/** Figures from the savings cache (null until computed) and whether a job runs. */
export function bucketSavings(bucket: BucketShape, ctx: GraphQLContext) {
  return ctx.services.savings.status(bucket.name);
}

export async function startSavings(bucket: string, ctx: GraphQLContext) {
  ctx.services.objects.assertVisible(bucket);
  return ctx.services.savings.start(bucket);
}

export function watchSavings(bucket: string, ctx: GraphQLContext) {
  return ctx.services.savings.follow(bucket, ctx.signal);
}
