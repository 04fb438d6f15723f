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
