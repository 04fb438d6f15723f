/** The closed set of ways a delta can be wrong; callers map these onto their own error vocabulary. */
export type VcdiffErrorCode = "invalid_format" | "truncated" | "checksum_mismatch" | "unsupported" | "limit_exceeded";

export class VcdiffError extends Error {
  readonly code: VcdiffErrorCode;

  constructor(code: VcdiffErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "VcdiffError";
    this.code = code;
  }
}

export function isVcdiffError(error: unknown): error is VcdiffError {
  return error instanceof VcdiffError;
}
