import { LRUCache } from "lru-cache";

export interface SingleFlightCacheOptions {
  /** Entries kept (least recently used dropped first). */
  max: number;
  /** How long a loaded value is fresh. */
  ttlMs: number;
  /**
   * Once fresh time is over, keep answering with the old value while one refresh runs (stale-while-revalidate).
   * Without it, callers wait for the one refresh. @default true
   */
  serveStale?: boolean;
  /** Clock (ms); tests move it instead of sleeping. @default performance.now */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  freshUntil: number;
}

/**
 * A TTL cache where a missing or expired key is loaded by exactly one call, however many callers ask at once: the
 * others wait for that call (or, with `serveStale`, get the previous value while it runs). `delete` makes a load that
 * is already running unable to store its result, so a value read before a change is never cached after it.
 *
 * lru-cache's own `fetch` does single-flight too, but it aborts (and rejects for every waiter) a running load when the
 * key is deleted, and it ties the load to one caller's signal; here the load belongs to no caller: each caller stops
 * waiting on its own signal, and the load ends by itself (callers pass loads that have their own deadline).
 */
export function createSingleFlightCache<V>(options: SingleFlightCacheOptions) {
  const now = options.now ?? (() => performance.now());
  const serveStale = options.serveStale ?? true;
  const entries = new LRUCache<string, Entry<V>>({ max: options.max });
  const loading = new Map<string, Promise<V | undefined>>();
  /** Bumped by `delete`: a load started under an older generation does not store its value. */
  const generations = new Map<string, number>();
  let loads = 0;

  function start(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const generation = generations.get(key) ?? 0;
    loads++;
    const promise = load().then((value) => {
      if (value !== undefined && (generations.get(key) ?? 0) === generation) {
        entries.set(key, { value, freshUntil: now() + options.ttlMs });
      }
      return value;
    });
    loading.set(key, promise);
    promise
      .finally(() => {
        if (loading.get(key) === promise) loading.delete(key);
      })
      .catch(() => undefined);
    return promise;
  }

  function waitFor<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!signal) return promise;
    signal.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }

  return {
    /**
     * The cached value, or the result of `load` (undefined results are returned but not cached, so negative answers
     * are asked again). `signal` only stops this caller's wait.
     */
    async get(key: string, load: () => Promise<V | undefined>, signal?: AbortSignal): Promise<V | undefined> {
      const entry = entries.get(key);
      if (entry && now() < entry.freshUntil) return entry.value;
      const pending = loading.get(key) ?? start(key, load);
      if (entry && serveStale) return entry.value;
      return waitFor(pending, signal);
    },
    /** A fresh value, if any, without loading. */
    peek(key: string): V | undefined {
      const entry = entries.get(key);
      return entry && now() < entry.freshUntil ? entry.value : undefined;
    },
    set(key: string, value: V) {
      entries.set(key, { value, freshUntil: now() + options.ttlMs });
    },
    delete(key: string) {
      entries.delete(key);
      if (loading.has(key)) {
        loading.delete(key);
        generations.set(key, (generations.get(key) ?? 0) + 1);
      } else {
        generations.delete(key);
      }
    },
    /** Deletes every key (cached or loading) that matches. */
    deleteWhere(match: (key: string) => boolean) {
      for (const key of [...entries.keys(), ...loading.keys()]) if (match(key)) this.delete(key);
    },
    /** Loads started so far (tests and metrics). */
    get loads() {
      return loads;
    },
  };
}

export type SingleFlightCache<V> = ReturnType<typeof createSingleFlightCache<V>>;
