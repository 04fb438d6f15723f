/**
 * Named points of multi-step writes where a crash leaves distinct states. Crash tests start Glider with
 * `GLIDER_TEST_PAUSE_AT=<point>`: on reaching it the process writes `{"glider_paused_at":"<point>"}` to stderr and
 * never continues, so the test can `kill -9` it at exactly that point instead of guessing with timers.
 * Unset (always, outside those tests) it costs one property read.
 */
export type CrashPoint = "upload:spooled" | "upload:reference-written" | "upload:delta-written";

export async function crashPoint(point: CrashPoint): Promise<void> {
  if (process.env.GLIDER_TEST_PAUSE_AT !== point) return;
  process.stderr.write(`${JSON.stringify({ glider_paused_at: point })}\n`);
  await new Promise(() => undefined);
}
