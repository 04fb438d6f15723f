import { setImmediate } from "node:timers/promises";

/**
 * Lets every callback already queued run (one event-loop turn drains the promise jobs), then returns. Not a wait for
 * time: a test uses it to show that something is still pending because the event it needs has not happened.
 */
export function settled(): Promise<void> {
  return setImmediate();
}
