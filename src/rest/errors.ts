import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, type GliderError, isGliderError, STATUS_BY_CODE } from "../services/errors.js";

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

/** The one error body of REST; the code comes from the closed union, so no front door invents its own. */
export function envelope(code: ErrorCode, message: string, details: Record<string, unknown> = {}): ErrorEnvelope {
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
    return reply
      .status(STATUS_BY_CODE.cancelled)
      .send(envelope("cancelled", "the request was cancelled before it completed"));
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
