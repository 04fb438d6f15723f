import { GliderError } from "../../errors.js";
import {
  CONTENT_TYPE_MAX_LENGTH,
  DEFAULT_EXPIRY_SECONDS,
  DEFAULT_MAX_DOWNLOADS,
  MAX_DOWNLOADS,
  MAX_EXPIRY_SECONDS,
} from "../limits.js";
import { PAYLOAD_TYPE } from "./rules.js";
import type { CreateTransferInput } from "./types.js";

const CONTENT_TYPE = new RegExp(`^[\\x20-\\x7e]{1,${CONTENT_TYPE_MAX_LENGTH}}$`);
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A create request's values once checked, defaults applied. */
export interface CheckedCreateInput {
  size: number;
  contentType: string;
  maxDownloads: number;
  expiresInSeconds: number;
  deleteAuthHash: string | null;
}

export function intIn(value: unknown, fallback: number, min: number, max: number, parameter: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new GliderError("invalid_request", `${parameter} must be an integer from ${min} to ${max}`, { parameter });
  }
  return value;
}

/** Checks a create request field by field (`invalid_request` naming the parameter, `payload_too_large`). */
export function checkCreateInput(input: CreateTransferInput, maxBytes: number): CheckedCreateInput {
  const size = input.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) {
    throw new GliderError("invalid_request", "size must be a positive integer (bytes)", { parameter: "size" });
  }
  if (size > maxBytes) {
    throw new GliderError("payload_too_large", `size exceeds the ${maxBytes}-byte limit`, {
      max_bytes: maxBytes,
      size,
    });
  }
  const contentType = input.contentType ?? PAYLOAD_TYPE;
  if (!CONTENT_TYPE.test(contentType)) {
    throw new GliderError(
      "invalid_request",
      `content_type must be 1-${CONTENT_TYPE_MAX_LENGTH} printable ASCII characters`,
      {
        parameter: "content_type",
      },
    );
  }
  const maxDownloads = intIn(input.maxDownloads, DEFAULT_MAX_DOWNLOADS, 0, MAX_DOWNLOADS, "max_downloads");
  const expiresIn = intIn(input.expiresInSeconds, DEFAULT_EXPIRY_SECONDS, 1, MAX_EXPIRY_SECONDS, "expires_in_seconds");
  const deleteAuthHash = input.deleteAuthHash?.toLowerCase() ?? null;
  if (deleteAuthHash !== null && !SHA256_HEX.test(deleteAuthHash)) {
    throw new GliderError("invalid_request", "delete_auth_hash must be 64 hex characters (SHA-256)", {
      parameter: "delete_auth_hash",
    });
  }
  return { size, contentType, maxDownloads, expiresInSeconds: expiresIn, deleteAuthHash };
}

/** The secret presented to delete a transfer must be a non-empty string. */
export function checkDeleteAuth(deleteAuth: unknown): asserts deleteAuth is string {
  if (typeof deleteAuth !== "string" || deleteAuth.length === 0) {
    throw new GliderError("invalid_request", "delete_auth is required", { parameter: "delete_auth" });
  }
}
