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
    bucket: t.exposeString("bucket", { description: "The bucket holding the object" }),
    key: t.exposeString("key", { description: "The logical key (without DeltaGlider's `.delta` suffix)" }),
    name: t.exposeString("name", { description: "Last segment of the key" }),
    originalBytes: t.field({
      type: "SafeInt",
      description: "Size of the original file",
      resolve: (o) => o.originalBytes,
    }),
    storedBytes: t.field({
      type: "SafeInt",
      description: "Bytes of the object's own physical object; the shared reference is never attributed",
      resolve: (o) => o.storedBytes,
    }),
    compressed: t.exposeBoolean("compressed", { description: "Stored as a delta" }),
    savingsPct: t.exposeFloat("savingsPct", { description: "Percentage of original bytes not stored (0–100)" }),
    modified: t.field({
      type: "DateTime",
      description: "Last modified, as the store reports it",
      resolve: (o) => o.modified,
    }),
    sha256: t.string({
      nullable: true,
      description: "SHA-256 (hex) of the original, when recorded at upload",
      resolve: (o, _args, ctx) => objectSha256(o, ctx),
    }),
    acceptRanges: t.boolean({
      description: "Whether downloads honour Range requests (never, yet)",
      resolve: () => false,
    }),
  }),
});

// Query#object
builder.queryField("object", (t) =>
  t.field({
    type: StoredObject,
    nullable: true,
    description: "One object by bucket and key; null when it does not exist",
    args: {
      bucket: t.arg.string({ required: true, description: "The object's bucket" }),
      key: t.arg.string({ required: true, description: "The object's logical key" }),
    },
    resolve: (_root, args, ctx) => findObject(args.bucket, args.key, ctx),
  }),
);

// Mutation#deleteObject
const DeleteObjectInput = builder.inputType("DeleteObjectInput", {
  description: "The object to delete",
  fields: (t) => ({
    bucket: t.string({ required: true, description: "The object's bucket" }),
    key: t.string({ required: true, description: "The object's logical key" }),
  }),
});

const DeleteObjectPayload = builder.objectRef<{ bucket: string; key: string }>("DeleteObjectPayload").implement({
  description: "The object deleted",
  fields: (t) => ({
    deletedId: t.globalID({
      description: "The deleted StoredObject's global id (drop it from client caches)",
      resolve: (o) => ({ type: StoredObject, id: objectId(o) }),
    }),
  }),
});

builder.mutationField("deleteObject", (t) =>
  t.field({
    type: DeleteObjectPayload,
    description: "Deletes an object",
    args: { input: t.arg({ type: DeleteObjectInput, required: true, description: "The object" }) },
    resolve: async (_root, { input }, ctx) => {
      await deleteObject(input.bucket, input.key, ctx);
      return { bucket: input.bucket, key: input.key };
    },
  }),
);
