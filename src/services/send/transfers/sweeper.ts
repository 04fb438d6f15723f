import type { Logger } from "pino";

export interface Sweeper {
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `sweep` every `intervalMs`, one run at a time (the next is scheduled when the previous one ends), on an
 * unref'd timer so it never keeps the process alive.
 */
export function startSweeper(sweep: () => Promise<unknown>, intervalMs: number, logger: Logger): Sweeper {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweep()
        .then(
          (report) => logger.debug({ report }, "send sweep"),
          (error) => logger.error({ err: error }, "send sweep failed"),
        )
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
