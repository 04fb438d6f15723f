/**
 * Runs `fn` over `items` with at most `jobs` in flight, in order of start, and keeps going past failures (each one
 * goes to `onError`); stops starting new items once `signal` is aborted. Recursive transfers report every failed
 * object and still finish the others.
 */
export async function forEachConcurrent<T>(
  items: Iterable<T> | AsyncIterable<T>,
  jobs: number,
  fn: (item: T) => Promise<void>,
  onError: (item: T, error: unknown) => void,
  signal?: AbortSignal,
): Promise<void> {
  const iterator =
    Symbol.asyncIterator in items
      ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]();
  // Async iterators queue concurrent next() calls, so the workers can share one source.
  const next = async () => (signal?.aborted ? { done: true as const, value: undefined } : iterator.next());
  async function worker() {
    for (let step = await next(); !step.done; step = await next()) {
      const item = step.value as T;
      try {
        await fn(item);
      } catch (error) {
        if (signal?.aborted) return;
        onError(item, error);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
}

/**
 * Orders the first upload of each DeltaSpace before the others of that space: the first delta candidate becomes the
 * space's reference (as with the DeltaGlider CLI), so it must be stored before its siblings are encoded against it.
 */
export function createSpaceGates() {
  const gates = new Map<string, Promise<void>>();
  return async function gated<R>(space: string, fn: () => Promise<R>): Promise<R> {
    const open = gates.get(space);
    if (open) {
      await open;
      return fn();
    }
    let release!: () => void;
    gates.set(
      space,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    try {
      return await fn();
    } finally {
      release();
    }
  };
}
