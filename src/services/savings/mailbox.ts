import { isTerminal, type SavingsProgress } from "./types.js";

/**
 * Events between the pub/sub and a reader that may be slow: progress is cumulative, so an unread progress event is
 * replaced by a newer one of the same job; terminal events are never dropped. Holds at most a few events.
 */
export interface Mailbox {
  /** Queues an event, replacing the unread progress of the same job; ignored once closed. */
  put(event: SavingsProgress): void;
  /** Ends now, dropping what is unread (the reader went away). */
  close(): void;
  /** Ends once what is queued has been read. */
  end(): void;
  /** The next event, or undefined once closed (or ended and drained). */
  take(): Promise<SavingsProgress | undefined>;
}

export function createMailbox(): Mailbox {
  const queue: SavingsProgress[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let ending = false;
  return {
    put(event: SavingsProgress) {
      if (closed) return;
      const last = queue.at(-1);
      if (last && !isTerminal(last.state) && !isTerminal(event.state) && last.taskId === event.taskId) {
        queue[queue.length - 1] = event;
      } else {
        queue.push(event);
      }
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    end() {
      ending = true;
      wake?.();
    },
    async take(): Promise<SavingsProgress | undefined> {
      while (!closed && !ending && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      return closed ? undefined : queue.shift();
    },
  };
}
