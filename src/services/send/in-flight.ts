/**
 * Writes still running, per transfer: Send's one read-your-writes tracker. Audit writes and download bookkeeping
 * (commit or release of a slot) register here, so a read of a transfer right after a request sees that request's
 * effects, and `close` waits for everything. Only this process's writes: other instances are not waited for.
 */
export interface InFlight {
  /** Registers `work` under `key` until it settles; returns `work` itself (its rejection stays the caller's). */
  track<T>(key: string, work: Promise<T>): Promise<T>;
  /** Resolves once the work registered under `key` so far has settled (never rejects). */
  settled(key: string): Promise<void>;
  /** Resolves once all work registered so far has settled (never rejects). */
  all(): Promise<void>;
}

export function createInFlight(): InFlight {
  const pending = new Map<string, Set<Promise<void>>>();
  return {
    track(key, work) {
      let set = pending.get(key);
      if (!set) {
        set = new Set();
        pending.set(key, set);
      }
      const entry = set;
      const settled = work.then(
        () => undefined,
        () => undefined,
      );
      entry.add(settled);
      void settled.then(() => {
        entry.delete(settled);
        if (entry.size === 0 && pending.get(key) === entry) pending.delete(key);
      });
      return work;
    },
    async settled(key) {
      await Promise.all(pending.get(key) ?? []);
    },
    async all() {
      await Promise.all([...pending.values()].flatMap((set) => [...set]));
    },
  };
}
