/**
 * A process-wide budget, in bytes, for decoded windows in flight. Each reconstruction holds one window (up to
 * 8 MiB for xdelta3 deltas) from decode until its client has taken the bytes, so without a cap memory grows with the
 * number of concurrent downloads. Waiters are served in order; a request larger than the whole budget still runs
 * once nothing else holds any, so nothing can deadlock.
 */
export function createMemoryBudget(capacity: number) {
  let used = 0;
  const waiters: { bytes: number; grant: () => void; reject: (error: unknown) => void }[] = [];

  function pump() {
    while (waiters.length > 0) {
      const next = waiters[0];
      if (used > 0 && used + next.bytes > capacity) return;
      waiters.shift();
      used += next.bytes;
      next.grant();
    }
  }

  return {
    /** Waits for `bytes` of budget; the returned function gives them back (idempotent). */
    async acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const waiter = { bytes, grant: resolve, reject };
        waiters.push(waiter);
        const onAbort = () => {
          const at = waiters.indexOf(waiter);
          if (at >= 0) waiters.splice(at, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        pump();
      });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        used -= bytes;
        pump();
      };
    },
    get used() {
      return used;
    },
  };
}

export type MemoryBudget = ReturnType<typeof createMemoryBudget>;
