import { createHash } from "node:crypto";
import type { DeltaGlider } from "../deltaglider/index.js";
import { GliderError } from "../errors.js";

/** The DeltaGlider CLI's `verify` answer, field for field. */
export interface VerifyResult {
  valid: boolean;
  expected_sha256: string | null;
  actual_sha256: string | null;
  message: string;
}

/**
 * Reconstructs an object completely and compares the sha256 of what came out with the one its metadata records.
 * A mismatch, or a delta that cannot be decoded, is `valid: false` with a message; a missing object or an
 * unreachable store is an error. Plain objects record no sha256: their bytes are read and reported, nothing compared.
 */
export async function verifyObject(
  deltaglider: DeltaGlider,
  bucket: string,
  key: string,
  signal?: AbortSignal,
): Promise<VerifyResult> {
  const object = await deltaglider.catalogue.resolve(bucket, key, signal);
  const expected = object.sha256 ?? null;
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    const reconstruction = await deltaglider.open(bucket, key, signal);
    for await (const chunk of reconstruction.body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  } catch (error) {
    if (!(error instanceof GliderError && error.code === "integrity_failed")) throw error;
    const actual = typeof error.details?.actual === "string" ? error.details.actual : null;
    return { valid: false, expected_sha256: expected, actual_sha256: actual, message: error.message };
  }
  const actual = hash.digest("hex");
  if (expected === null) {
    return {
      valid: true,
      expected_sha256: null,
      actual_sha256: actual,
      message: `plain object without a recorded sha256: read ${bytes} bytes, nothing to compare`,
    };
  }
  const valid = actual === expected;
  return {
    valid,
    expected_sha256: expected,
    actual_sha256: actual,
    message: valid ? `${object.kind} object verified: ${bytes} bytes, sha256 matches` : "sha256 mismatch",
  };
}
