import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { GliderError } from "../errors.js";
import {
  copiedChunks,
  type LeasedChunk,
  leasedToReadable,
  leasedTwice,
  ownedChunk,
  ownedChunks,
} from "../leased-chunks.js";
import type { Metrics } from "../metrics.js";
import type { GetObjectResult, ObjectStore } from "../storage/object-store.js";
import { isVcdiffError, openVcdiff, type WindowSlice } from "../vcdiff/index.js";
import type { Catalogue, LogicalObject } from "./catalogue.js";
import { assertCanRecompress, isCompressionLetter, recompressStream } from "./compression.js";
import type { HashPool } from "./hash-pool.js";
import { DELTA_SUFFIX, deltaSpaceOf, isReferenceKey, referenceKeyOf } from "./keys.js";
import { parseSize, readDgMetadata } from "./metadata.js";
import type { ReferenceCache } from "./reference-cache.js";
import { createWindowPool, type WindowPool, type WindowSlot } from "./window-pool.js";

export interface Reconstruction {
  object: LogicalObject;
  /** Bytes the body will deliver (the original size). */
  size: number;
  /** sha256 of the original, when the metadata records one (the logical ETag). */
  sha256: string | undefined;
  /**
   * The original bytes, zero-copy: each chunk must be released once sent (decoded windows are recycled). Errors
   * (never ends cleanly) if verification fails after bytes were produced. Consume either this or `body`, once.
   */
  chunks: AsyncIterable<LeasedChunk>;
  /** The same bytes as a plain stream (copies of the recycled windows). */
  readonly body: Readable;
}

export interface ReconstructorOptions {
  /** Objects up to this size are verified completely before the first byte is released. @default 8 MiB */
  verifyBufferBytes?: number;
  /** Bytes of decoded windows held by all reconstructions at once (see window-pool.ts). @default 64 MiB */
  windowBudgetBytes?: number;
  /** A pool shared with other reconstructors (per-session connections share the process-wide one). */
  windowPool?: WindowPool;
  /** The thread that computes the sha256 of large objects; without one, it is computed on this thread. */
  hashPool?: HashPool;
  /**
   * Objects from this size on are hashed on `hashPool`'s thread. @default verifyBufferBytes + 1: the streamed ones.
   * Below, an object is verified whole before its first byte: its hash costs this thread at most ~5 ms (8 MiB at
   * ~0.6 ms per MiB here, SHA-NI), handing it over would save at most that, and the first one would wait for the
   * thread to start (measured ~40 ms CPU, 80–135 ms on this loaded VM), as would every CLI run copying small
   * files. A streamed object needs the digest only after its last byte, so the start overlaps sending, and the
   * thread takes ~80 % of the hash's cost off this one (~0.1 instead of ~0.6 ms per MiB, the messages included).
   */
  hashOffloadMinBytes?: number;
}

/** xdelta3's target window: what one reconstruction holds while a window is decoded and sent. */
const WINDOW_UNIT = 8 * 1024 * 1024;
/** What the decoder writes before handing bytes out (see decodeSlices): the first byte waits for this much. */
const DECODE_SLICE = 1024 * 1024;
/** What one socket write takes: a window is sent as views of this size, so it returns to the pool soon after. */
const SLICE = 256 * 1024;
/** A window whose chunks are still unsent this long after the last was handed out is taken off the pool. */
const STALL_MS = 10_000;

function integrity(message: string, details: Record<string, unknown>): GliderError {
  return new GliderError("integrity_failed", message, details);
}

/**
 * Counts and hashes bytes as they pass and fails at the end when size or sha256 differ from what was promised. The
 * chunk that completes the size is held back until the check passes. With `offload`, the sha256 is computed on the
 * hashing thread (hash-pool.ts) while this thread goes on decoding and sending; the check is the same.
 */
async function* verified(
  chunks: AsyncIterable<LeasedChunk>,
  expect: { size: number; sha256: string | undefined },
  details: Record<string, unknown>,
  onBytes: (n: number) => void,
  offload?: HashPool,
): AsyncGenerator<LeasedChunk> {
  // Opened here, not by the caller: a stream that is never read must not hold the thread (and the process) open.
  const remote = expect.sha256 && offload ? offload.open() : undefined;
  const hash = expect.sha256 && !remote ? createHash("sha256") : undefined;
  let size = 0;
  // The chunk completing the recorded size is held back until the check passes, so a mismatch can never look like
  // a complete response. (Only that one: holding a chunk while pulling the next would pin its window.)
  let held: LeasedChunk | undefined;
  try {
    for await (const chunk of chunks) {
      const n = chunk.bytes.length;
      if (n === 0) {
        chunk.release();
        continue;
      }
      size += n;
      if (size > expect.size) {
        chunk.release();
        throw integrity(`output longer than the ${expect.size} bytes recorded`, details);
      }
      let out = chunk;
      if (remote) {
        // A recycled window is read in place by the hashing thread: it returns to the pool once both the socket
        // write and the hash are done with it.
        const twice = leasedTwice(chunk);
        out = twice.chunk;
        try {
          // A promise only when the thread's queue is full (backpressure).
          await remote.update(chunk.bytes, twice.done);
        } catch (error) {
          out.release();
          throw error;
        }
      } else {
        hash?.update(chunk.bytes);
      }
      onBytes(n);
      if (size < expect.size) yield out;
      else held = out;
    }
    if (size !== expect.size) throw integrity(`output is ${size} bytes, ${expect.size} recorded`, details);
    const actual = remote ? await remote.digest() : hash?.digest("hex");
    if (expect.sha256 && actual !== expect.sha256) {
      throw integrity("output does not match its recorded sha256 (SHA256 mismatch)", { ...details, actual });
    }
    const last = held;
    held = undefined;
    if (last) yield last;
  } finally {
    held?.release();
    remote?.drop();
  }
}

function reconstruction(
  object: LogicalObject,
  size: number,
  sha256: string | undefined,
  chunks: AsyncIterable<LeasedChunk>,
): Reconstruction {
  let body: Readable | undefined;
  return {
    object,
    size,
    sha256,
    chunks,
    get body() {
      body ??= leasedToReadable(chunks);
      return body;
    },
  };
}

/** Maps codec failures onto the domain vocabulary: a delta that cannot be decoded is an integrity failure. */
function fromCodec(error: unknown, details: Record<string, unknown>): unknown {
  if (!isVcdiffError(error)) return error;
  const code = error.code === "unsupported" ? "unsupported" : "integrity_failed";
  return new GliderError(code, `delta cannot be decoded: ${error.message}`, { ...details, codec: error.code });
}

/** The same for every window: a failure anywhere in the delta, header or body, reads as one kind of error. */
async function* translateCodecErrors<T>(chunks: AsyncIterable<T>, details: Record<string, unknown>) {
  try {
    yield* chunks;
  } catch (error) {
    throw fromCodec(error, details);
  }
}

export function createReconstructor(
  store: ObjectStore,
  catalogue: Catalogue,
  references: ReferenceCache,
  metrics: Metrics,
  options: ReconstructorOptions = {},
) {
  const verifyBufferBytes = options.verifyBufferBytes ?? 8 * 1024 * 1024;
  const hashOffloadMinBytes = options.hashOffloadMinBytes ?? verifyBufferBytes + 1;
  const windowPool = options.windowPool ?? createWindowPool(options.windowBudgetBytes ?? 64 * 1024 * 1024, WINDOW_UNIT);

  /**
   * With the `likelyDelta` hint, the delta's GET starts alongside the catalogue's HEADs: the first byte then waits
   * for one S3 round trip fewer. Its body is used only if the HEADs resolve to that very object (same physical key,
   * same ETag), else destroyed unread; a failed early GET just means asking again.
   */
  function earlyDeltaGet(bucket: string, key: string, signal?: AbortSignal) {
    const physicalKey = `${key}${DELTA_SUFFIX}`;
    const got = store.getObject({ bucket, key: physicalKey, signal }).catch(() => undefined);
    let taken = false;
    return {
      /** The body, if it is the resolved object's; the caller then owns it. */
      async take(object: LogicalObject): Promise<GetObjectResult | undefined> {
        taken = true;
        const result = await got;
        if (result && object.physicalKey === physicalKey && result.head.etag === object.etag) return result;
        result?.body.destroy();
        return undefined;
      },
      /** Destroys the body unless `take` was called (which then owns it). */
      discard(): void {
        if (!taken) void got.then((result) => result?.body.destroy());
        taken = true;
      },
    };
  }

  async function deltaChunks(
    bucket: string,
    object: LogicalObject,
    signal?: AbortSignal,
    early?: ReturnType<typeof earlyDeltaGet>,
  ) {
    const meta = readDgMetadata(object.metadata);
    const details = { bucket, key: object.key };
    const missing = (["refKey", "refSha256", "fileSha256", "fileSize"] as const).filter((f) => !meta[f]);
    if (missing.length) throw integrity(`delta metadata lacks ${missing.join(", ")}`, details);
    const refSha = meta.refSha256 as string;
    // The DeltaSpace is the folder of ref-key, not of the delta's own key (§4 step 3).
    const referenceKey = referenceKeyOf(deltaSpaceOf(meta.refKey as string));

    const raw = await references.acquire(bucket, referenceKey, refSha, "raw", signal);
    // The first file of a DeltaSpace: reference.bin already holds the exact bytes (§4 shortcut).
    if (meta.fileSha256 === refSha) {
      early?.discard();
      return {
        // Views of the cached reference: shared memory when it is held in memory, fresh reads of its spill file not.
        shared: raw.bytes !== undefined,
        chunks: (async function* () {
          try {
            const step = 1024 * 1024;
            for (let offset = 0; offset < raw.size; offset += step) {
              yield ownedChunk(await raw.source.read(offset, Math.min(step, raw.size - offset)));
            }
          } finally {
            raw.release();
          }
        })(),
      };
    }
    let reference = raw;
    try {
      // xdelta3 decompresses a source with a compressor magic always, whatever the header says (§8.5).
      if (raw.magic) reference = await references.acquire(bucket, referenceKey, refSha, "decompressed", signal);
      const delta = (await early?.take(object)) ?? (await store.getObject({ bucket, key: object.physicalKey, signal }));
      // No VCD_TARGET history (xdelta3 never writes such windows; 50 concurrent downloads would each pin 8 MiB), and
      // no per-window Adler-32: the whole-file sha256 below is the stronger check, and decoding is CPU-bound.
      // Windows are decoded into pooled buffers (window-pool.ts). A slot is taken only once a window's sections
      // are read, so the end of the delta needs none: a consumer holding the last chunk cannot wait on itself.
      let slot: WindowSlot | undefined;
      const reader = await openVcdiff(delta.body, {
        allocateWindow: async (length) => {
          slot = await windowPool.acquire(signal);
          return slot.allocate(length);
        },
        maxTargetHistory: 0,
        verifyChecksum: false,
        // One window per download at a time: the memory budget below decides how many are in flight.
        lookahead: false,
      }).catch((error) => {
        delta.body.destroy();
        // A damaged header is as much a broken delta as a damaged window.
        throw fromCodec(error, details);
      });
      const written = reader.header.appHeader?.targetCompression ?? "";
      const letter = isCompressionLetter(written) ? written : undefined;
      if (written && !letter) {
        await reader.close();
        throw new GliderError("unsupported", `unknown compression letter "${written}" in the delta header`, details);
      }
      if (letter) {
        try {
          assertCanRecompress(letter);
        } catch (error) {
          await reader.close();
          throw error;
        }
      }
      const source = reference;
      const decoded = (async function* () {
        // A window goes out a slice at a time, each as soon as it is written and after reading only the source it
        // copies: the first byte no longer waits for a whole window's source reads and writing. (Possible only
        // without the per-window Adler-32; the sha256 check in `verified` still fails the stream on a bad delta.)
        const slices = reader.decodeSlices(source.source, DECODE_SLICE);
        // The window being sent: its slot is freed once it is complete and every chunk of it was released.
        let lent: ReturnType<WindowSlot["lend"]> | undefined;
        try {
          while (true) {
            let next: IteratorResult<WindowSlice>;
            try {
              next = await slices.next();
            } catch (error) {
              slot?.free();
              throw error;
            }
            if (next.done) {
              slot?.free();
              return;
            }
            if (!lent) {
              // A window's first slice: allocateWindow has just given it a slot.
              if (!slot) throw new Error("window decoded without a slot");
              lent = slot.lend(STALL_MS);
              slot = undefined;
            }
            // Views of the window, one socket write each; the buffer is reused once every write has completed.
            const { bytes, windowEnd } = next.value;
            for (let at = 0; at < bytes.length; at += SLICE) yield lent.chunk(bytes.subarray(at, at + SLICE));
            if (windowEnd) {
              lent.done();
              lent = undefined;
            }
          }
        } finally {
          lent?.done();
          await slices.return(undefined);
          source.release();
          if (source !== raw) raw.release();
        }
      })();
      // Decoded windows are shared memory (window-pool.ts); recompressed output is not.
      if (letter) {
        return {
          shared: false,
          chunks: ownedChunks(recompressStream(letter, copiedChunks(translateCodecErrors(decoded, details)), signal)),
        };
      }
      return { shared: true, chunks: decoded };
    } catch (error) {
      reference.release();
      if (reference !== raw) raw.release();
      throw error;
    }
  }

  /**
   * A logical object → a stream of its original bytes, integrity-checked (format doc §4). `physicalKey`: the
   * object a listing just showed for this key (the CLI's recursive copies): one HEAD of it instead of resolving the
   * key again, which costs every delta a HEAD of the missing exact key first.
   */
  async function open(
    bucket: string,
    key: string,
    signal?: AbortSignal,
    hint: { likelyDelta?: boolean; physicalKey?: string } = {},
  ): Promise<Reconstruction> {
    const listed = hint.physicalKey;
    // The token's hint: the key was a delta when it was issued, so its GET can start with the HEADs.
    const early =
      !listed && hint.likelyDelta && !isReferenceKey(key) && !key.endsWith(DELTA_SUFFIX)
        ? earlyDeltaGet(bucket, key, signal)
        : undefined;
    let object: LogicalObject;
    try {
      object = listed
        ? await catalogue.describe(
            bucket,
            { key, physicalKey: listed, compressed: listed !== key, storedBytes: 0, modified: new Date(0), etag: "" },
            signal,
          )
        : await catalogue.resolve(bucket, key, signal, hint);
    } catch (error) {
      early?.discard();
      throw error;
    }
    const details = { bucket, key };
    let chunks: AsyncIterable<LeasedChunk>;
    // Whether the chunks are views of SharedArrayBuffers, which the hashing thread reads in place. Ordinary memory
    // would have to be copied to it, and that copy costs this thread more than hashing does (hash-pool.ts).
    let shared = false;
    let size = object.originalBytes;
    const sha256 = object.sha256;
    if (object.kind === "delta") {
      try {
        const declared = parseSize(readDgMetadata(object.metadata).fileSize);
        if (declared === undefined) throw integrity("delta metadata has no valid file size", details);
        size = declared;
        const decoded = await deltaChunks(bucket, object, signal, early);
        chunks = translateCodecErrors(decoded.chunks, details);
        shared = decoded.shared;
      } finally {
        early?.discard(); // unless deltaChunks took the body
      }
    } else {
      early?.discard();
      const got = await store.getObject({ bucket, key: object.physicalKey, signal });
      size = got.contentLength;
      chunks = ownedChunks(got.body);
    }
    const checked = verified(
      chunks,
      { size, sha256 },
      details,
      (n) => {
        if (object.kind === "delta") metrics.reconstructionBytes.inc(n);
      },
      shared && size >= hashOffloadMinBytes ? options.hashPool : undefined,
    );
    if (size <= verifyBufferBytes) {
      // Small enough to check completely first: a mismatch becomes a clean error before the first byte.
      const parts: Uint8Array[] = [];
      for await (const chunk of copiedChunks(checked)) parts.push(chunk);
      const whole = parts.length ? [ownedChunk(Buffer.concat(parts))] : [];
      return reconstruction(
        object,
        size,
        sha256,
        (async function* () {
          yield* whole;
        })(),
      );
    }
    return reconstruction(object, size, sha256, checked);
  }

  return { open, windowPool };
}

export type Reconstructor = ReturnType<typeof createReconstructor>;
