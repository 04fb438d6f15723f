/**
 * The one error vocabulary of Glider. Services throw GliderError; each front door maps `code` once
 * (REST: status + envelope, GraphQL: extensions.code). Codes are stable API.
 */
export const ERROR_CODES = [
  "bucket_not_found",
  "key_not_found",
  "invalid_key",
  "invalid_bucket_name",
  "invalid_prefix",
  "invalid_request",
  "invalid_cursor",
  "precondition_failed",
  "integrity_failed",
  "unsupported",
  "sdk_error",
  "storage_unavailable",
  // Shared state of several instances (Redis) is unreachable.
  "unavailable",
  "throttled",
  "timeout",
  "unauthorized",
  "forbidden",
  "payload_too_large",
  "unsupported_media_type",
  "conflict",
  "internal",
  // Front doors: a path no route answers (REST's 404 handler), a request the client abandoned (499, never read).
  "not_found",
  "cancelled",
  // Downloads: signed download tokens (RFC-DG-UI-0001)
  "download_token_invalid",
  "download_token_expired",
  // Send: sender tokens and transfers
  "token_not_found",
  "token_revoked",
  "token_expired",
  "token_exhausted",
  "token_quota_exceeded",
  "transfer_not_found",
  "transfer_expired",
  "transfer_exhausted",
  "transfer_deleted",
  "invalid_state",
  "size_mismatch",
  // Sessions and bucket administration (the Commander UI)
  "invalid_credentials",
  "session_required",
  "endpoint_unreachable",
  "bucket_not_empty",
  "bucket_exists",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class GliderError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GliderError";
    this.code = code;
    this.details = details;
  }
}

export function isGliderError(error: unknown): error is GliderError {
  return error instanceof GliderError;
}

/**
 * The one table from error code to HTTP status: REST answers with it, and the Send audit trail records it for both
 * front doors (a GraphQL request that failed with `transfer_not_found` is recorded as 404, as its REST twin).
 */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  bucket_not_found: 404,
  key_not_found: 404,
  invalid_key: 400,
  invalid_bucket_name: 400,
  invalid_prefix: 400,
  invalid_request: 400,
  invalid_cursor: 400,
  precondition_failed: 412,
  integrity_failed: 400,
  unsupported: 422,
  sdk_error: 502,
  storage_unavailable: 503,
  unavailable: 503,
  throttled: 429,
  timeout: 504,
  unauthorized: 401,
  forbidden: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  conflict: 409,
  download_token_invalid: 403,
  download_token_expired: 401,
  internal: 500,
  not_found: 404,
  // nginx's "client closed request": logged and recorded, never seen by the client that left.
  cancelled: 499,
  token_not_found: 404,
  token_revoked: 401,
  token_expired: 401,
  token_exhausted: 403,
  token_quota_exceeded: 403,
  transfer_not_found: 404,
  transfer_expired: 410,
  transfer_exhausted: 410,
  transfer_deleted: 410,
  invalid_state: 409,
  size_mismatch: 422,
  invalid_credentials: 403,
  session_required: 401,
  endpoint_unreachable: 502,
  bucket_not_empty: 409,
  bucket_exists: 409,
};

/** The HTTP status an outcome stands for: the table's for a domain error, 500 for anything else. */
export function statusOf(error: unknown): number {
  return isGliderError(error) ? STATUS_BY_CODE[error.code] : 500;
}
