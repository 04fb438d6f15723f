import { randomUUID } from "node:crypto";
import { GliderError, isGliderError } from "../errors.js";
import type { ObjectStore } from "./object-store.js";

/** Whether a backend enforces the two conditional writes Glider relies on, as measured on the backend itself. */
export interface ConditionalWriteSupport {
  /** `If-None-Match: *`: a create fails when the key exists (reference creation, Send download slots). */
  ifNoneMatch: boolean;
  /** `If-Match: <etag>`: an overwrite fails unless the object still has that ETag. */
  ifMatch: boolean;
}

export interface ConditionalWriteProbe {
  /** The backend's support, probed once at first use (a probe that fails on a storage error is retried later). */
  support(signal?: AbortSignal): Promise<ConditionalWriteSupport>;
  /** The last probe's result, or undefined before one has finished. */
  current(): ConditionalWriteSupport | undefined;
}

/** Where the probe writes its scratch object inside the bucket it is given (Glider's system bucket). */
export const PROBE_PREFIX = "probes/conditional-writes/";

/** An ETag no object can have: If-Match with it must fail. */
const STALE_ETAG = '"00000000000000000000000000000000"';

async function refused(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return false;
  } catch (error) {
    if (isGliderError(error) && error.code === "precondition_failed") return true;
    throw error;
  }
}

/**
 * Probes conditional writes on a scratch key in `bucket`: create it, create it again with If-None-Match: * (must
 * fail), overwrite it with a stale If-Match (must fail) and with its own ETag (must succeed), then delete it. Stock
 * s3rver, for one, silently ignores both headers; a backend like that must not be trusted to arbitrate races.
 */
export function createConditionalWriteProbe(
  store: ObjectStore,
  bucket: string,
  onResult: (support: ConditionalWriteSupport) => void = () => {},
): ConditionalWriteProbe {
  let result: ConditionalWriteSupport | undefined;
  let running: Promise<ConditionalWriteSupport> | undefined;

  async function probe(signal?: AbortSignal): Promise<ConditionalWriteSupport> {
    await store.createBucket(bucket);
    const key = `${PROBE_PREFIX}${randomUUID()}`;
    const body = (text: string) => Buffer.from(`conditional-write probe: ${text}\n`);
    try {
      const first = await store.putObject({ bucket, key, body: body("create"), signal });
      const ifNoneMatch = await refused(
        store.putObject({ bucket, key, body: body("second create"), ifNoneMatch: "*", signal }),
      );
      const current = ifNoneMatch ? first.etag : (await store.headObject(bucket, key, signal)).etag;
      const staleRefused = await refused(
        store.putObject({ bucket, key, body: body("stale overwrite"), ifMatch: STALE_ETAG, signal }),
      );
      const currentAccepted = !(await refused(
        store.putObject({ bucket, key, body: body("matching overwrite"), ifMatch: current, signal }),
      ));
      return { ifNoneMatch, ifMatch: staleRefused && currentAccepted };
    } finally {
      await store.deleteObject(bucket, key).catch(() => undefined);
    }
  }

  return {
    support(signal) {
      if (result) return Promise.resolve(result);
      running ??= probe(signal).then(
        (support) => {
          result = support;
          onResult(support);
          return support;
        },
        (error) => {
          running = undefined;
          throw isGliderError(error)
            ? error
            : new GliderError("internal", "conditional-write probe failed", {}, { cause: error });
        },
      );
      return running;
    },
    current: () => result,
  };
}

/** A probe that measures nothing: the backend's declared capability (for tests that build services by hand). */
export function declaredConditionalWrites(store: ObjectStore): ConditionalWriteProbe {
  const support = { ifNoneMatch: store.capabilities.conditionalPut, ifMatch: store.capabilities.conditionalPut };
  return { support: async () => support, current: () => support };
}
