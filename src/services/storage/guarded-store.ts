import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Readable } from "node:stream";
import { GliderError, isGliderError } from "../errors.js";
import { iterateBody } from "./body.js";
import type { GetObjectInput, ObjectStore, PutObjectInput, PutObjectResult } from "./object-store.js";

export interface GuardOptions {
  /** Deadline of one call up to its answer (a GET's headers, a PUT's reply once the body is sent). */
  timeoutMs: number;
  /** A body flowing to or from storage that makes no progress for this long is aborted. */
  idleTimeoutMs: number;
  /**
   * After a write was cancelled, keep checking this long that it did not land late (a stalled store can still
   * commit a request it had received whole). @default 2 × timeoutMs
   */
  lingerMs?: number;
  /** Reports compensations that could not be completed (the store stayed unreachable). */
  onCompensationFailed?: (bucket: string, key: string, error: unknown) => void;
}

export interface GuardedStore {
  store: ObjectStore;
  /** Epoch ms of the last call the store answered (successfully, or with a definite answer such as 404); 0 if none. */
  lastAnswerAt(): number;
  /** Cancelled writes still being checked or undone. */
  compensations: {
    pending(): number;
    /** Settles once a cancelled write is being undone (at once if one already is): for tests and shutdown logs. */
    started(): Promise<void>;
    drained(): Promise<void>;
  };
}

/** Errors that say nothing good about the store; any other answer (404, 412, …) proves it is up. */
const UNHEALTHY = new Set(["sdk_error", "storage_unavailable", "timeout", "throttled", "internal"]);

/** Socket-level failures: the store could not be reached or dropped the connection. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
]);

function isNetworkError(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE/.test(message)) return true;
  }
  return false;
}

/** A connection failure of the store, typed: never an `internal` error. */
export function toStorageError(error: unknown): unknown {
  if (isGliderError(error) && error.code !== "sdk_error") return error;
  if (isNetworkError(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new GliderError("storage_unavailable", `the object store is unreachable: ${detail}`, {}, { cause: error });
  }
  return error;
}

function timeoutError(timeoutMs: number, what: string): GliderError {
  return new GliderError("timeout", `the object store did not ${what} within ${timeoutMs} ms`, {
    timeout_ms: timeoutMs,
  });
}

/** An abort signal fired by the caller or by a timer that can be re-armed, whichever comes first. */
function createDeadline(caller: AbortSignal | undefined) {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  let timer: NodeJS.Timeout | undefined;
  let expired: GliderError | undefined;
  const onCallerAbort = () => controller.abort(caller?.reason);
  if (caller?.aborted) controller.abort(caller.reason);
  else caller?.addEventListener("abort", onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    /** (Re)starts the countdown; when it runs out, the call fails with `error`. */
    arm(ms: number, error: () => GliderError) {
      clearTimeout(timer);
      timer = setTimeout(() => {
        expired = error();
        controller.abort(expired);
      }, ms);
    },
    disarm() {
      clearTimeout(timer);
    },
    expired: () => expired,
    dispose() {
      clearTimeout(timer);
      caller?.removeEventListener("abort", onCallerAbort);
    },
  };
}

/**
 * A storage body that fails when the store stops sending for `idleMs` while the reader waits for bytes. A reader
 * that is slow (backpressure) never trips it: the countdown runs only between a read and the chunk that answers it.
 */
function watchBody(source: Readable, idleMs: number): Readable {
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const out = new Readable({
    read() {
      if (timer === undefined) {
        timer = setTimeout(() => {
          const error = new GliderError("timeout", `the object store sent nothing for ${idleMs} ms`, {
            idle_timeout_ms: idleMs,
          });
          source.destroy(error);
          out.destroy(error);
        }, idleMs);
      }
      source.resume();
    },
    destroy(error, callback) {
      stop();
      source.destroy();
      callback(error);
    },
  });
  source.on("data", (chunk: Buffer) => {
    stop();
    if (!out.push(chunk)) source.pause();
  });
  source.once("end", () => {
    stop();
    out.push(null);
  });
  source.once("error", (error) => {
    stop();
    out.destroy(toStorageError(error) as Error);
  });
  source.pause();
  return out;
}

/**
 * Wraps a store so no call waits forever and no cancelled write becomes visible later (README "Limits and
 * deadlines"):
 * - every call has a deadline up to its answer (`timeout`, 504), and bodies an idle deadline while they flow;
 * - connection failures become `storage_unavailable` (503) wherever they surface, bodies included;
 * - a PUT cancelled by its caller or its deadline is undone before the error is returned: the key is deleted if it
 *   holds what this PUT wrote (same MD5 ETag), and checked again for `lingerMs` in case a stalled store commits it late.
 */
export function guardStore(inner: ObjectStore, options: GuardOptions): GuardedStore {
  const { timeoutMs, idleTimeoutMs } = options;
  const lingerMs = options.lingerMs ?? 2 * timeoutMs;
  let lastAnswer = 0;
  const pending = new Set<Promise<void>>();
  const startWaiters: (() => void)[] = [];

  const answered = <T>(value: T): T => {
    lastAnswer = Date.now();
    return value;
  };

  async function call<T>(signal: AbortSignal | undefined, what: string, fn: (signal: AbortSignal) => Promise<T>) {
    const deadline = createDeadline(signal);
    deadline.arm(timeoutMs, () => timeoutError(timeoutMs, what));
    try {
      return answered(await fn(deadline.signal));
    } catch (error) {
      const expired = deadline.expired();
      if (expired) throw expired;
      // A definite answer (404, 412, …) still proves the store is up.
      if (isGliderError(error) && !UNHEALTHY.has(error.code)) lastAnswer = Date.now();
      throw toStorageError(error);
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Whether `key` holds what the cancelled write left: its bytes (same single-part MD5), or anything written since
   * the PUT began (a multipart completion, or the truncated object some stores keep when a request's body never
   * arrived whole). LastModified has one-second precision, hence the margin.
   */
  async function holdsOurWrite(bucket: string, key: string, md5: string, startedAt: number): Promise<boolean> {
    try {
      const head = await call(undefined, "answer a HEAD", (s) => inner.headObject(bucket, key, s));
      return head.etag.replace(/"/g, "") === md5 || head.lastModified.getTime() >= startedAt - 1000;
    } catch (error) {
      if (isGliderError(error) && (error.code === "key_not_found" || error.code === "bucket_not_found")) return false;
      throw error;
    }
  }

  async function undo(bucket: string, key: string, md5: string, startedAt: number): Promise<void> {
    if (await holdsOurWrite(bucket, key, md5, startedAt)) {
      await call(undefined, "answer a DELETE", (s) => inner.deleteObject(bucket, key, s));
    }
  }

  /** Undoes now (awaited by the failing PUT), then keeps checking for a late commit in the background. */
  async function compensate(bucket: string, key: string, md5: string, startedAt: number) {
    const first = undo(bucket, key, md5, startedAt).catch(() => undefined);
    const task = (async () => {
      const until = Date.now() + lingerMs;
      let wait = 100;
      await first;
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, until - Date.now()))));
        wait = Math.min(wait * 2, 2000);
        await undo(bucket, key, md5, startedAt).catch(() => undefined);
      }
      try {
        await undo(bucket, key, md5, startedAt);
      } catch (error) {
        options.onCompensationFailed?.(bucket, key, error);
      }
    })();
    pending.add(task);
    for (const notify of startWaiters.splice(0)) notify();
    task.finally(() => pending.delete(task)).catch(() => undefined);
    await first;
  }

  async function putObject(input: PutObjectInput): Promise<PutObjectResult> {
    const startedAt = Date.now();
    const deadline = createDeadline(input.signal);
    const md5 = createHash("md5");
    let body: PutObjectInput["body"];
    if (input.body instanceof Uint8Array) {
      md5.update(input.body);
      body = input.body;
      deadline.arm(timeoutMs, () => timeoutError(timeoutMs, "accept the write"));
    } else {
      // The store's turn runs from handing it a chunk to its next pull, then until its answer; waiting on our own
      // source (a slow uploader) is not the store's fault and is not counted.
      const source = input.body;
      body = Readable.from(
        (async function* () {
          for await (const chunk of iterateBody(source)) {
            md5.update(chunk);
            deadline.arm(idleTimeoutMs, () => timeoutError(idleTimeoutMs, "take the next bytes"));
            yield chunk;
            deadline.disarm();
          }
          deadline.arm(timeoutMs, () => timeoutError(timeoutMs, "confirm the write"));
        })(),
        { objectMode: false },
      );
    }
    try {
      return answered(await inner.putObject({ ...input, body, signal: deadline.signal }));
    } catch (error) {
      const cancelled = deadline.signal.aborted;
      if (cancelled || isNetworkError(error)) {
        // It may have landed (or may still land): take it back before anyone is told it failed.
        await compensate(input.bucket, input.key, md5.digest("hex"), startedAt);
      }
      const expired = deadline.expired();
      if (expired) throw expired;
      throw toStorageError(error);
    } finally {
      deadline.dispose();
    }
  }

  async function getObject(input: GetObjectInput) {
    const deadline = createDeadline(input.signal);
    deadline.arm(timeoutMs, () => timeoutError(timeoutMs, "start sending the object"));
    try {
      const result = await inner.getObject({ ...input, signal: deadline.signal });
      deadline.disarm();
      answered(undefined);
      const body = watchBody(result.body, idleTimeoutMs);
      body.once("close", () => deadline.dispose());
      return { ...result, body };
    } catch (error) {
      deadline.dispose();
      const expired = deadline.expired();
      if (expired) throw expired;
      throw toStorageError(error);
    }
  }

  const store: ObjectStore = {
    kind: inner.kind,
    capabilities: inner.capabilities,
    listBuckets: (signal) => call(signal, "list buckets", (s) => inner.listBuckets(s)),
    createBucket: (bucket) => call(undefined, "create the bucket", () => inner.createBucket(bucket)),
    deleteBucket: (bucket, signal) => call(signal, "delete the bucket", (s) => inner.deleteBucket(bucket, s)),
    bucketExists: (bucket, signal) => call(signal, "answer a HEAD", (s) => inner.bucketExists(bucket, s)),
    listObjects: (input) => call(input.signal, "answer a LIST", (s) => inner.listObjects({ ...input, signal: s })),
    headObject: (bucket, key, signal) => call(signal, "answer a HEAD", (s) => inner.headObject(bucket, key, s)),
    getObject,
    putObject,
    deleteObject: (bucket, key, signal) => call(signal, "answer a DELETE", (s) => inner.deleteObject(bucket, key, s)),
    copyObject: (input) => call(input.signal, "answer a COPY", (s) => inner.copyObject({ ...input, signal: s })),
    presign: (input) => inner.presign(input),
    ping: (signal) => call(signal, "answer a probe", (s) => inner.ping(s)),
    close: () => inner.close(),
  };

  return {
    store,
    lastAnswerAt: () => lastAnswer,
    compensations: {
      pending: () => pending.size,
      started: () => (pending.size > 0 ? Promise.resolve() : new Promise<void>((r) => startWaiters.push(r))),
      async drained() {
        while (pending.size > 0) await Promise.allSettled([...pending]);
      },
    },
  };
}
