import type { FastifyRequest } from "fastify";
import { GliderError } from "../services/errors.js";

/** The media type of a request, lower-cased, without parameters; undefined when the header is absent. */
export function mediaTypeOf(request: FastifyRequest): string | undefined {
  const header = request.headers["content-type"];
  if (!header) return undefined;
  return header.split(";")[0].trim().toLowerCase();
}

/**
 * An onRequest hook for streaming routes: refuses any media type but `allowed` before a byte of the body is read,
 * with `415 unsupported_media_type` (a JSON body must never reach a handler that expects a byte stream), and a
 * `multipart/form-data` without its boundary with `400 invalid_request`.
 */
export function requireMediaType(...allowed: string[]) {
  return async (request: FastifyRequest) => {
    const type = mediaTypeOf(request);
    if (type === undefined || !allowed.includes(type)) {
      throw new GliderError(
        "unsupported_media_type",
        `content-type ${type ? `"${type}"` : "(none)"} is not accepted here; send ${allowed.join(" or ")}`,
        { accepted: allowed },
      );
    }
    if (
      type === "multipart/form-data" &&
      !/;\s*boundary=("[^"]+"|[^;\s]+)/i.test(request.headers["content-type"] ?? "")
    ) {
      throw new GliderError("invalid_request", "multipart/form-data needs a boundary parameter", {
        parameter: "content-type",
      });
    }
  };
}
