import { z } from "zod";

/**
 * What the DeltaGlider Commander UI (v1.3.1) requires of each answer, written from the field lists of its API client
 * (frontend/src/lib/api/): names, types, integer-ness. Strict where the UI is strict (integers, non-negative), open
 * to extra fields where the UI ignores them. Tests parse Glider's real responses with these.
 */
const count = z.number().int().nonnegative();

export const uiBucket = z.object({
  name: z.string(),
  object_count: count,
  original_bytes: count,
  stored_bytes: count,
  savings_pct: z.number(),
  pending: z.boolean().optional(),
  stats_mode: z.string().optional(),
  stats_loaded: z.boolean().optional(),
  object_count_is_limited: z.boolean().optional(),
});

export const uiBuckets = z.object({ buckets: z.array(uiBucket) });
export const uiBucketStats = z.object({ bucket: uiBucket });
export const uiRefresh = z.object({ status: z.string(), mode: z.string(), buckets: z.array(uiBucket) });

const uiObject = z.object({
  key: z.string(),
  original_bytes: count,
  stored_bytes: count,
  compressed: z.boolean(),
  modified: z.string(),
});

export const uiObjectList = z.object({
  objects: z.array(uiObject),
  common_prefixes: z.array(z.string()),
  cursor: z.string().nullable().optional(),
  limited: z.boolean().optional(),
});

export const uiMetadata = uiObject.extend({
  accept_ranges: z.boolean(),
  content_type: z.string().nullable().optional(),
  etag: z.string().nullable().optional(),
  metadata: z.record(z.string()).optional(),
});

export const uiPresigned = z.object({
  bucket: z.string(),
  key: z.string(),
  download_url: z.string().url(),
  expires_in: z.number().int().positive(),
  expires_at: z.number().int().positive(),
  estimated_bytes: count,
});

export const uiUploadResult = z.object({
  bucket: z.string(),
  key: z.string(),
  original_bytes: count,
  stored_bytes: count,
  compressed: z.boolean(),
  operation: z.string(),
  savings_bytes: count,
  savings_pct: z.number(),
  physical_key: z.string().optional(),
  relative_path: z.string().optional(),
});

export const uiUpload = z.object({
  bucket: z.string(),
  prefix: z.string().optional(),
  results: z.array(uiUploadResult),
  stats: z.object({
    count,
    original_bytes: count,
    stored_bytes: count,
    savings_bytes: count,
    savings_pct: z.number(),
  }),
});

export const uiBulkDelete = z.object({
  deleted: z.array(z.string()),
  errors: z.array(z.object({ key: z.string(), error: z.string() })),
  total_requested: count,
  total_deleted: count,
  total_errors: count,
});

export const uiSessionStatus = z.object({ valid: z.boolean(), expires_in: z.number().int().optional() });

/** The UI reads `error.code` and `error.message` of every failure (anything else becomes "invalid_error_payload"). */
export const uiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.object({}).passthrough().optional() }),
});
