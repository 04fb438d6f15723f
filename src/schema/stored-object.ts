import {
  deleteObject,
  findObject,
  objectId,
  objectSha256,
  parseObjectId,
  type StoredObjectShape,
} from "../resolvers/objects.js";
import { builder } from "./builder.js";

export const ObjectSort = builder.enumType("ObjectSort", {
  description: "Listing order; ties are broken by key",
  values: {
    NAME_ASC: { value: "name_asc" },
    NAME_DESC: { value: "name_desc" },
    SIZE_ASC: { value: "size_asc" },
    SIZE_DESC: { value: "size_desc" },
    MODIFIED_ASC: { value: "modified_asc" },
    MODIFIED_DESC: { value: "modified_desc" },
    SAVINGS_PCT_ASC: { value: "savings_pct_asc" },
    SAVINGS_PCT_DESC: { value: "savings_pct_desc" },
  } as const,
});

export const StoredObject = builder.node(builder.objectRef<StoredObjectShape>("StoredObject"), {
  description: "A logical object: what users see, whether stored as a delta or directly",
  id: { resolve: (object) => objectId(object) },
  loadWithoutCache: (id, ctx) => {
    const { bucket, key } = parseObjectId(id);
    return findObject(bucket, key, ctx);
  },
  fields: (t) => ({
    bucket: t.exposeString("bucket"),
    key: t.exposeString("key"),
    name: t.exposeString("name", { description: "Last segment of the key" }),
    originalBytes: t.field({ type: "SafeInt", resolve: (o) => o.originalBytes }),
    storedBytes: t.field({
      type: "SafeInt",
      description: "Bytes of the object's own physical object; the shared reference is never attributed",
      resolve: (o) => o.storedBytes,
    }),
    compressed: t.exposeBoolean("compressed", { description: "Stored as a delta" }),
    savingsPct: t.exposeFloat("savingsPct"),
    modified: t.field({ type: "DateTime", resolve: (o) => o.modified }),
    sha256: t.string({ nullable: true, resolve: (o, _args, ctx) => objectSha256(o, ctx) }),
    acceptRanges: t.boolean({ resolve: () => false }),
  }),
});

// Query#object
builder.queryField("object", (t) =>
  t.field({
    type: StoredObject,
    nullable: true,
    args: { bucket: t.arg.string({ required: true }), key: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => findObject(args.bucket, args.key, ctx),
  }),
);

// Mutation#deleteObject
builder.mutationField("deleteObject", (t) =>
  t.boolean({
    args: { bucket: t.arg.string({ required: true }), key: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => deleteObject(args.bucket, args.key, ctx),
  }),
);
