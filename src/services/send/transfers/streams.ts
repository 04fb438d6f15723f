import { pipeline, type Readable, Transform } from "node:stream";
import { GliderError } from "../../errors.js";

export interface LimitedBody {
  body: Readable;
  received(): number;
  exceeded(): boolean;
  aborted(): boolean;
}

/**
 * Counts bytes from `source` and fails with `payload_too_large` on the chunk holding byte `maxBytes + 1`, so an
 * oversized upload is never stored whole. The source is piped, not consumed by `for await`: a failure here must not
 * destroy it (destroying an HTTP request kills the socket before the 413 goes out). A source that closes before its
 * end (client gone) fails the body too, so the store's write never waits forever.
 */
export function limitBytes(source: Readable, maxBytes: number): LimitedBody {
  let total = 0;
  let exceeded = false;
  let aborted = false;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > maxBytes) {
        exceeded = true;
        callback(
          new GliderError("payload_too_large", `payload exceeds the ${maxBytes}-byte limit`, { max_bytes: maxBytes }),
        );
        return;
      }
      callback(null, chunk);
    },
  });
  const onClose = () => {
    if (!source.readableEnded && !body.destroyed) {
      aborted = true;
      body.destroy(new GliderError("invalid_request", "the upload was aborted before its end"));
    }
  };
  const onError = (error: Error) => {
    aborted = true;
    body.destroy(error);
  };
  // The store's reader reports the failure; this listener only keeps an early one from being "unhandled".
  body.on("error", () => undefined);
  source.once("close", onClose);
  source.once("error", onError);
  body.once("close", () => {
    source.unpipe(body);
    source.off("close", onClose);
    source.off("error", onError);
  });
  source.pipe(body);
  return { body, received: () => total, exceeded: () => exceeded, aborted: () => aborted };
}

const CHUNK = 64 * 1024;

/**
 * Wraps a payload stream for a byte download. Large chunks (the memory store hands out one buffer) are re-cut to
 * 64 KiB so backpressure reaches the reader and "the stream ended" means the consumer took the last byte.
 * Exactly one of `onEnd` (every byte was read) or `onAbort` (destroyed or failed first) runs.
 */
export function meterDownload(
  source: Readable,
  hooks: { onEnd: () => Promise<void>; onAbort: () => Promise<void>; onHookError: (error: unknown) => void },
): Readable {
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (let i = 0; i < chunk.length; i += CHUNK) this.push(chunk.subarray(i, i + CHUNK));
      callback();
    },
  });
  let settled = false;
  const settle = (hook: () => Promise<void>) => {
    if (settled) return;
    settled = true;
    hook().catch(hooks.onHookError);
  };
  out.once("end", () => settle(hooks.onEnd));
  out.once("close", () => settle(hooks.onAbort));
  // pipeline tears the storage stream down when `out` is destroyed (client gone) and vice versa.
  pipeline(source, out, () => undefined);
  return out;
}
