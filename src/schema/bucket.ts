import { type BucketShape, bucketSavings, findBucket, listBuckets } from "../resolvers/buckets.js";
import { listBucketObjects } from "../resolvers/objects.js";
import { builder } from "./builder.js";
import { ObjectSort, StoredObject } from "./stored-object.js";

/** What the listing adds to Relay's connection shape. */
interface FolderTotals {
  commonPrefixes: string[];
  totalCount: number;
}

const ObjectConnection = builder.connectionObject<typeof StoredObject, FolderTotals>(
  {
    type: StoredObject,
    name: "ObjectConnection",
    description: "A page of one folder: its objects, all its child folders and the folder's total",
    fields: (c) => ({
      commonPrefixes: c.stringList({
        description: "Every child folder of the prefix, sorted, on every page",
        resolve: (p) => p.commonPrefixes,
      }),
      totalCount: c.field({
        type: "SafeInt",
        description: "Entries in the folder (objects and child folders) matching the filters",
        resolve: (p) => p.totalCount,
      }),
    }),
  },
  { name: "ObjectConnectionEdge" },
);

export const Bucket = builder.node(builder.objectRef<BucketShape>("Bucket"), {
  description: "A bucket with its savings figures (null until computed)",
  id: { resolve: (bucket) => bucket.name },
  // Not `loadOne`: Pothos' per-request node cache hands a second alias of the same id the first one's pending promise,
  // which resolves before Pothos brands the object, so `node` fails "must resolve to an Object type". The
  // DataLoaders in the context already de-duplicate storage calls (test/schema/subscriptions.test.ts, node(id)).
  loadWithoutCache: (name, ctx) => findBucket(name, ctx),
  fields: (t) => ({
    name: t.exposeString("name", { description: "The bucket's name in the object store" }),
    objectCount: t.field({
      type: "SafeInt",
      nullable: true,
      description: "Logical objects in the bucket at the last savings scan",
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).figures?.objectCount,
    }),
    originalBytes: t.field({
      type: "SafeInt",
      nullable: true,
      description: "Sum of the objects' original sizes at the last savings scan",
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
      description: "Percentage of original bytes not stored (0–100)",
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).figures?.savingsPct,
    }),
    pending: t.boolean({
      description: "A savings job is running",
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).pending,
    }),
    computedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the savings figures were computed",
      resolve: async (b, _a, ctx) => (await bucketSavings(b, ctx)).figures?.computedAt,
    }),
    objects: t.field({
      type: ObjectConnection,
      description: "One folder (`/` delimiter semantics); every page carries all child folders",
      // Forward paging only (S3 lists forward): no `last`/`before`, so the schema promises nothing that fails.
      args: {
        first: t.arg.int({ description: "Page size: at most this many objects after `after`" }),
        after: t.arg.string({ description: "Start after this cursor (an edge's `cursor` or `pageInfo.endCursor`)" }),
        prefix: t.arg.string({ description: "The folder to list, ending in `/`; the bucket's root when absent" }),
        sort: t.arg({ type: ObjectSort, description: "Listing order; NAME_ASC when absent" }),
        compressed: t.arg.boolean({ description: "Only objects stored as deltas (true) or directly (false)" }),
        search: t.arg.string({ description: "Only entries whose name contains this text (case-insensitive)" }),
      },
      resolve: (bucket, args, ctx) => listBucketObjects(bucket.name, args, ctx),
    }),
  }),
});

// Query#buckets
builder.queryField("buckets", (t) =>
  t.field({
    type: [Bucket],
    description: "Every visible bucket (Glider's own system bucket is hidden)",
    resolve: (_root, _args, ctx) => listBuckets(ctx),
  }),
);

// Query#bucket
builder.queryField("bucket", (t) =>
  t.field({
    type: Bucket,
    nullable: true,
    description: "One bucket by name; null when it does not exist or is hidden",
    args: { name: t.arg.string({ required: true, description: "The bucket's name" }) },
    resolve: (_root, args, ctx) => findBucket(args.name, ctx),
  }),
);
