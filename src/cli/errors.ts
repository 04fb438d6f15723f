import { ConfigError } from "../config.js";
import { type ErrorCode, GliderError } from "../services/errors.js";

/** A wrong command line: reported as `invalid_request: …` with exit status 2. */
export class UsageError extends GliderError {
  constructor(message: string) {
    super("invalid_request", message);
  }
}

export function usageError(message: string): UsageError {
  return new UsageError(message);
}

/** Local file-system failures (Node's errno codes) in the Glider vocabulary. */
const ERRNO_CODES: Record<string, ErrorCode> = {
  ENOENT: "invalid_request",
  ENOTDIR: "invalid_request",
  EISDIR: "invalid_request",
  EEXIST: "conflict",
  ENOTEMPTY: "conflict",
  EACCES: "forbidden",
  EPERM: "forbidden",
  EROFS: "forbidden",
  ENOSPC: "payload_too_large",
};

function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return error instanceof Error && typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/**
 * One line for stderr, always starting with a code: the GliderError code, `invalid configuration` for the
 * environment, a mapped code for local file errors, `internal` for anything else.
 */
export function errorLine(error: unknown, subject?: string): string {
  const where = subject ? `${subject}: ` : "";
  let line: string;
  if (error instanceof ConfigError) line = error.message;
  else if (error instanceof GliderError) line = `${error.code}: ${where}${error.message}`;
  else {
    const errno = errnoCode(error);
    const message = error instanceof Error ? error.message : String(error);
    line = errno
      ? `${ERRNO_CODES[errno] ?? "internal"}: ${where}${message}`
      : `internal: ${where}${message || "unexpected error"}`;
  }
  return line.replace(/\s*[\r\n]+\s*/g, " ");
}

export function exitStatusOf(error: unknown): number {
  return error instanceof UsageError ? 2 : 1;
}
