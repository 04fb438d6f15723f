import { Type } from "typebox";
import { DateTime, Dict, Nullable, StringEnum } from "../schemas.js";

// The RFC-DG-UI-0001 shapes (snake_case) the browse routes answer with; shapes.ts and buckets.ts build them.

export const BucketParams = Type.Object({ bucket: Type.String({ minLength: 1 }) });

export const StatsMode = StringEnum(["quick", "sampled", "detailed"]);

export const Bucket = Type.Object(
  {
    name: Type.String(),
    object_count: Type.Integer({ minimum: 0 }),
    original_bytes: Type.Integer({ minimum: 0 }),
    stored_bytes: Type.Integer({ minimum: 0 }),
    savings_pct: Type.Number(),
    computed_at: Nullable(DateTime),
    pending: Type.Boolean(),
    stats_mode: StatsMode,
    stats_loaded: Type.Boolean(),
    stale: Type.Boolean(),
    object_count_is_limited: Type.Boolean(),
  },
  {
    additionalProperties: false,
    description:
      "Bucket figures are always integers. stats_mode says how they were computed (quick: LIST only, delta sizes " +
      "estimated from their reference; sampled: quick corrected by HEADs of up to 100 deltas; detailed: every delta " +
      "read, exact); stats_loaded is false (all zeros) until a first computation; stale is true after a change to " +
      "the bucket (the figures are kept until recomputed).",
  },
);

const objectFields = {
  key: Type.String(),
  original_bytes: Type.Integer({ minimum: 0 }),
  stored_bytes: Type.Integer({ minimum: 0 }),
  compressed: Type.Boolean(),
  modified: DateTime,
};

export const ObjectRow = Type.Object(objectFields, { additionalProperties: false });

export const ObjectMetadata = Type.Object(
  {
    ...objectFields,
    accept_ranges: Type.Literal(false),
    content_type: Nullable(Type.String()),
    etag: Type.String({ description: "ETag of the physical object" }),
    metadata: Dict(Type.String(), { description: "User metadata, DeltaGlider's dg-* keys among them" }),
  },
  { additionalProperties: false },
);

export const StoredAs = StringEnum(["reference", "delta", "direct"]);

/** One stored file (raw body, or the RFC's multipart form with a key). */
export const SingleUpload = Type.Object(
  {
    status: Type.Literal("ok"),
    key: Type.String(),
    stored_as: StoredAs,
    original_bytes: Type.Integer(),
    stored_bytes: Type.Integer(),
    sha256: Type.String(),
  },
  { additionalProperties: false },
);

/** The Commander's form: one result per file, failed ones included. */
export const FormUpload = Type.Object(
  {
    bucket: Type.String(),
    prefix: Type.String(),
    results: Type.Array(
      Type.Object({
        bucket: Type.String(),
        key: Type.String(),
        relative_path: Type.String(),
        original_bytes: Type.Integer(),
        stored_bytes: Type.Integer(),
        compressed: Type.Boolean(),
        operation: StringEnum(["create_reference", "create_delta", "upload_direct", "failed"]),
        savings_bytes: Type.Integer(),
        savings_pct: Type.Number(),
        physical_key: Type.Optional(Type.String()),
        sha256: Type.Optional(Type.String()),
        error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
      }),
    ),
    stats: Type.Object({
      count: Type.Integer(),
      failed: Type.Integer(),
      original_bytes: Type.Integer(),
      stored_bytes: Type.Integer(),
      savings_bytes: Type.Integer(),
      savings_pct: Type.Number(),
    }),
  },
  { additionalProperties: false },
);
