import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, type GliderError, isGliderError } from "../services/errors.js";

/** The one table from error code to HTTP status. */
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

export interface ErrorEnvelope {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export function envelope(code: string, message: string, details: Record<string, unknown> = {}): ErrorEnvelope {
  return { error: { code, message, details } };
}

/** Domain errors map through the table; fastify's own (validation, body size) keep their status; the rest is a 500. */
export function handleError(error: FastifyError | GliderError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (isGliderError(error)) {
    if (error.code === "throttled" && error.details?.retryAfterSeconds !== undefined) {
      reply.header("retry-after", String(error.details.retryAfterSeconds));
    }
    return reply.status(STATUS_BY_CODE[error.code]).send(envelope(error.code, error.message, error.details));
  }
  if (error.name === "AbortError") {
    // The client went away (or cancelled) mid-request: nobody reads this answer, and it is no server fault.
    request.log.info({ err: error }, "request cancelled");
    return reply.status(499).send(envelope("cancelled", "the request was cancelled before it completed"));
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const first = fastifyError.validation[0];
    const param = (first?.instancePath || "").replace(/^\//, "") || String(first?.params?.missingProperty ?? "");
    return reply.status(400).send(
      envelope("invalid_request", fastifyError.message, {
        parameter: param,
        context: fastifyError.validationContext,
      }),
    );
  }
  if (fastifyError.statusCode === 413) {
    return reply.status(413).send(envelope("payload_too_large", fastifyError.message));
  }
  if (fastifyError.statusCode === 415) {
    return reply.status(415).send(envelope("unsupported_media_type", fastifyError.message));
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return reply.status(fastifyError.statusCode).send(envelope("invalid_request", fastifyError.message));
  }
  request.log.error({ err: error }, "unhandled error");
  return reply.status(500).send(envelope("internal", "internal server error"));
}
