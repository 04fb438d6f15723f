import type { Logger } from "pino";
import { isGliderError } from "../errors.js";
import type { Metrics } from "../metrics.js";
import type { ObjectStore } from "./object-store.js";

type Operation = Exclude<keyof ObjectStore, "kind" | "capabilities">;

const OPERATIONS: Operation[] = [
  "listBuckets",
  "createBucket",
  "deleteBucket",
  "bucketExists",
  "listObjects",
  "headObject",
  "getObject",
  "putObject",
  "deleteObject",
  "copyObject",
  "presign",
  "ping",
  "close",
];

/** Wraps a store so every call is counted, timed and logged (operation, duration_ms, outcome). */
export function instrumentStore(store: ObjectStore, metrics: Metrics, logger: Logger): ObjectStore {
  const wrapped = { kind: store.kind, capabilities: store.capabilities } as ObjectStore;
  for (const operation of OPERATIONS) {
    const original = store[operation] as (...args: unknown[]) => Promise<unknown>;
    (wrapped as unknown as Record<string, unknown>)[operation] = async (...args: unknown[]) => {
      const started = performance.now();
      let outcome = "ok";
      try {
        return await original.apply(store, args);
      } catch (error) {
        outcome = isGliderError(error) ? error.code : "error";
        throw error;
      } finally {
        const seconds = (performance.now() - started) / 1000;
        metrics.storageCalls.inc({ backend: store.kind, operation, outcome });
        metrics.storageDuration.observe({ backend: store.kind, operation }, seconds);
        logger.info({ operation, duration_ms: Math.round(seconds * 1e4) / 10, outcome }, "storage call");
      }
    };
  }
  return wrapped;
}
