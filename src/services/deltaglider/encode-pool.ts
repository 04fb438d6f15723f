import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import type { EncodeResult, EncodeTask } from "./encode-worker.js";

/**
 * Delta encoding costs seconds of CPU for large files, so it runs in worker threads and the event loop keeps
 * answering listings and GraphQL meanwhile.
 */
export function createEncodePool(options: { threads?: number } = {}) {
  const self = import.meta.url;
  const isTs = self.endsWith(".ts");
  const pool = new Piscina<EncodeTask, EncodeResult>({
    filename: new URL(isTs ? "./encode-worker.ts" : "./encode-worker.js", self).href,
    minThreads: 0,
    maxThreads: Math.max(1, options.threads ?? availableParallelism() - 1),
    idleTimeout: 30_000,
    // An encode overlapping its upload waits for the body most of the time: a slow uploader must not hold the only
    // worker, so a few encodes share each thread (they interleave window by window).
    concurrentTasksPerWorker: 4,
    // Running from TypeScript sources (tsx, vitest): workers need the same loader to import .ts files.
    execArgv: isTs ? ["--import", import.meta.resolve("tsx")] : [],
  });
  let running = 0;
  return {
    async encode(task: EncodeTask, signal?: AbortSignal) {
      running++;
      try {
        return await pool.run(task, { signal });
      } finally {
        running--;
      }
    },
    /** Encodes in flight right now. */
    get running() {
      return running;
    },
    close: () => pool.destroy(),
  };
}

export type EncodePool = ReturnType<typeof createEncodePool>;
