import { setMaxListeners } from "node:events";
import { GliderError } from "../errors.js";

/** RFC-DG-UI-0002: list and metadata calls give up after `timeoutMs` (60 s by default) with `timeout`. */
export async function withTimeout<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timer = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timer]) : timer;
  // Every concurrent HEAD of a listing listens on this one signal.
  setMaxListeners(0, combined);
  try {
    return await fn(combined);
  } catch (error) {
    if (timer.aborted) {
      throw new GliderError(
        "timeout",
        `the object store did not answer within ${timeoutMs / 1000} s`,
        {},
        { cause: error },
      );
    }
    throw error;
  }
}
