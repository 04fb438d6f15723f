/**
 * A counting semaphore for bucket scans: at most `max` run at once, the others wait in arrival order. A waiter whose
 * job is cancelled leaves the line without taking a slot.
 */
export interface ScanSlots {
  /** Waits for a scan slot; rejects with the signal's reason if the job is cancelled while queued. */
  acquire(signal: AbortSignal): Promise<void>;
  /** Gives a slot back (to the longest waiter, if any); call once per successful `acquire`. */
  release(): void;
}

export function createScanSlots(max: number): ScanSlots {
  const waiting: { grant(): void }[] = [];
  let active = 0;

  function acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (active < max) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant() {
          signal.removeEventListener("abort", onAbort);
          active++;
          resolve();
        },
      };
      const onAbort = () => {
        waiting.splice(waiting.indexOf(entry), 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      waiting.push(entry);
    });
  }

  function release() {
    active--;
    waiting.shift()?.grant();
  }

  return { acquire, release };
}
