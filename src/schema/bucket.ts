import { type BucketShape, bucketSavings, findBucket, listBuckets } from "../resolvers/buckets.js";
import { listBucketObjects } from "../resolvers/objects.js";
import { builder } from "./builder.js";
import { ObjectSort, StoredObject } from "./stored-object.js";

export const Bucket = builder.node(builder.objectRef<BucketShape>("Bucket"), {
  description: "A bucket with its savings figures (null until computed)",
  id: { resolve: (bucket) => bucket.name },
  // Not `loadOne`: Pothos' per-request node cache hands a second alias of the same id the first one's pending promise,
  // which resolves before Pothos brands the object, so `node` fails "must resolve to an Object type". The
  // DataLoaders in the context already de-duplicate storage calls (test/schema/subscriptions.test.ts, node(id)).
  loadWithoutCache: (name, ctx) => findBucket(name, ctx),
  fields: (t) => ({
    name: t.exposeString("name"),
    objectCount: t.field({
      type: "SafeInt",
      nullable: true,
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).figures?.objectCount,
    }),
    originalBytes: t.field({
      type: "SafeInt",
      nullable: true,
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).figures?.originalBytes,
    }),
    storedBytes: t.field({
      type: "SafeInt",
      nullable: true,
      description: "Every physical byte, each reference once",
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).figures?.storedBytes,
    }),
    savingsPct: t.float({
      nullable: true,
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).figures?.savingsPct,
    }),
    pending: t.boolean({
      description: "A savings job is running",
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).pending,
    }),
    computedAt: t.field({
      type: "DateTime",
      nullable: true,
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).figures?.computedAt,
    }),
    objects: t.connection(
      {
        type: StoredObject,
        description: "One folder (`/` delimiter semantics); every page carries all child folders",
        args: {
          prefix: t.arg.string(),
          sort: t.arg({ type: ObjectSort }),
          compressed: t.arg.boolean(),
          search: t.arg.string(),
        },
        resolve: (bucket, args, ctx) => listBucketObjects(bucket.name, args, ctx),
      },
      {
        name: "ObjectConnection",
        fields: (c) => ({
          commonPrefixes: c.exposeStringList("commonPrefixes"),
          totalCount: c.field({ type: "SafeInt", resolve: (p) => p.totalCount }),
        }),
      },
    ),
  }),
});

// Query#buckets
builder.queryField("buckets", (t) => t.field({ type: [Bucket], resolve: (_root, _args, ctx) => listBuckets(ctx) }));

// Query#bucket
builder.queryField("bucket", (t) =>
  t.field({
    type: Bucket,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => findBucket(args.name, ctx),
  }),
);
