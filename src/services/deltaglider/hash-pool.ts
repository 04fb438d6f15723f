import { Worker } from "node:worker_threads";

/**
 * The hashing thread's whole program, plain CommonJS run by `new Worker(source, { eval: true })`. No file to
 * locate: it starts the same under tsx, vitest, dist/ and the bundled CLI (one file, no sibling to point a Worker
 * at), and the thread needs no TypeScript loader (tsx in a worker costs tens of MB and a slow start).
 * Messages: `{ id, bytes }` hashes bytes into stream `id` and answers `{ id, n }` once they were read;
 * `{ id, end: 1 }` answers `{ id, digest }`; `{ id, drop: 1 }` forgets the stream and answers `{ id, dropped: 1 }`.
 * One port, so each stream's messages are handled in the order they were posted.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  if (m.bytes) {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash("sha256")));
    hash.update(m.bytes);
    parentPort.postMessage({ id: m.id, n: m.bytes.length });
  } else if (m.end) {
    const hash = hashes.get(m.id) ?? createHash("sha256");
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, digest: hash.digest("hex") });
  } else if (m.drop) {
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, dropped: 1 });
  }
});
`;

/** A sha256 computed on the hashing thread, fed in order. */
export interface StreamHash {
  /**
   * Hashes `bytes` after everything fed before. A view of a SharedArrayBuffer (the decoded windows) is read in
   * place: `read` runs once the thread has hashed it, and the memory must not change until then. Other bytes are
   * copied first and `read` runs at once. Returns a promise when the pool's queue is over its bound: await it
   * before feeding more (backpressure); `undefined` otherwise.
   */
  update(bytes: Uint8Array, read: () => void): Promise<void> | undefined;
  /** The hex digest of everything fed. Rejects if the thread stopped (then nothing may be trusted). */
  digest(): Promise<string>;
  /** Abandons the hash (a failed or cancelled stream). Idempotent; a no-op after `digest`. */
  drop(): void;
}

export interface HashPoolOptions {
  /**
   * Bytes posted to the thread and not hashed yet, over all streams, above which `update` asks its caller to wait.
   * Copies count against it; shared windows too (their slots stay taken until hashed). A stream's last run of
   * adjacent views (under 1 MiB) counts once posted, so the bound can be passed by two runs per stream that waits.
   * @default 16 MiB
   */
  maxQueuedBytes?: number;
}

interface StreamState {
  /** For each message in flight, the `read` callbacks of its bytes, in feeding order (the thread answers so). */
  reads: (() => void)[][];
  /** Adjacent shared views not posted yet: one message per run of them, not per view. */
  batch?: { buffer: SharedArrayBuffer; start: number; end: number; reads: (() => void)[] };
  settle?: { resolve(digest: string): void; reject(error: Error): void };
}

/**
 * Adjacent views of one buffer (a window's 256 KiB socket writes) go out as one message of up to this size: four
 * times fewer messages and acknowledgements for the feeding thread. A full 1 MiB decode slice fills one exactly,
 * so a window's last bytes are posted at once, not when the next window arrives.
 */
const BATCH_BYTES = 1024 * 1024;

/**
 * One thread that computes the whole-object sha256 of downloads, so the thread that decodes and sends them does not
 * (at SHA-NI speed, ~75 ms per 100 MB: over a third of its work on a delta download). One thread suffices: it
 * hashes faster than one event loop can decode and send, and more would compete for the same cores. Started on
 * first use; it holds the process open only while a stream is in flight (ref-counted), and `close` ends it.
 */
export function createHashPool(options: HashPoolOptions = {}) {
  const maxQueued = options.maxQueuedBytes ?? 16 * 1024 * 1024;
  let worker: Worker | undefined;
  let closed = false;
  let nextId = 1;
  let queued = 0;
  let waiters: { resolve(): void; reject(error: Error): void }[] = [];
  let onDrained: (() => void)[] = [];
  const streams = new Map<number, StreamState>();
  let started = 0;
  let opened = 0;

  /** Whether the thread should keep the process alive: only while some stream waits on it. */
  function updateRef(): void {
    if (streams.size === 0 && onDrained.length) {
      const ready = onDrained;
      onDrained = [];
      for (const resolve of ready) resolve();
    }
    if (!worker) return;
    if (streams.size > 0) worker.ref();
    else worker.unref();
  }

  /** The thread died or was closed: nothing it was fed will be hashed. Memory it was reading is free again. */
  function failAll(error: Error): void {
    const failed = [...streams.values()];
    streams.clear();
    queued = 0;
    updateRef();
    for (const state of failed) {
      for (const reads of state.reads) for (const read of reads) read();
      state.reads = [];
      for (const read of state.batch?.reads ?? []) read();
      state.batch = undefined;
      state.settle?.reject(error);
    }
    const stuck = waiters;
    waiters = [];
    for (const w of stuck) w.reject(error);
  }

  function onMessage(m: { id: number; n?: number; digest?: string; dropped?: 1 }): void {
    const state = streams.get(m.id);
    if (!state) return;
    if (m.n !== undefined) {
      for (const read of state.reads.shift() ?? []) read();
      queued -= m.n;
      if (queued <= maxQueued && waiters.length) {
        const ready = waiters;
        waiters = [];
        for (const w of ready) w.resolve();
      }
      return;
    }
    // A digest or a drop is the stream's last answer: every update before it was acknowledged.
    streams.delete(m.id);
    updateRef();
    if (m.digest !== undefined) state.settle?.resolve(m.digest);
  }

  function thread(): Worker {
    if (closed) throw new Error("the sha256 thread pool is closed");
    if (worker) return worker;
    const w = new Worker(WORKER_SOURCE, { eval: true, name: "glider-sha256" });
    started++;
    w.on("message", onMessage);
    const lost = (error: Error) => {
      if (worker !== w) return;
      worker = undefined;
      failAll(error);
    };
    w.on("error", (error) => lost(error instanceof Error ? error : new Error(String(error))));
    w.on("exit", (code) => lost(new Error(`the sha256 thread exited (code ${code})`)));
    worker = w;
    return w;
  }

  function open(): StreamHash {
    const w = thread();
    const id = nextId++;
    opened++;
    const state: StreamState = { reads: [] };
    /** Posts the batch; its bytes count against the queue from now on (a batch waits for nothing but the caller). */
    const flush = () => {
      const batch = state.batch;
      if (!batch) return;
      state.batch = undefined;
      state.reads.push(batch.reads);
      w.postMessage({ id, bytes: new Uint8Array(batch.buffer, batch.start, batch.end - batch.start) });
      queued += batch.end - batch.start;
    };
    streams.set(id, state);
    updateRef();
    let ended = false;
    return {
      update(bytes, read) {
        if (ended || !streams.has(id)) {
          // Nothing will read these bytes: their memory is free at once.
          read();
          throw new Error(ended ? "update after digest or drop" : "the sha256 thread stopped");
        }
        const buffer = bytes.buffer;
        if (buffer instanceof SharedArrayBuffer) {
          const batch = state.batch;
          if (batch && batch.buffer === buffer && batch.end === bytes.byteOffset) {
            batch.end += bytes.length;
            batch.reads.push(read);
          } else {
            flush();
            state.batch = { buffer, start: bytes.byteOffset, end: bytes.byteOffset + bytes.length, reads: [read] };
          }
          if ((state.batch?.end ?? 0) - (state.batch?.start ?? 0) >= BATCH_BYTES) flush();
        } else {
          flush();
          // Posting a view of ordinary memory would clone its whole ArrayBuffer (a pooled slab, say): copy exactly
          // these bytes and hand their buffer over instead. This is a fallback: allocating and copying costs the
          // feeding thread more than hashing inline would (measured ~90 vs ~60 ms per 100 MB), so callers hand
          // over streams of shared memory only.
          const copy = new Uint8Array(bytes.length);
          copy.set(bytes);
          state.reads.push([]);
          // (Counted from `bytes`: the transfer leaves `copy` empty.)
          queued += bytes.length;
          w.postMessage({ id, bytes: copy }, [copy.buffer]);
          read();
        }
        if (queued <= maxQueued) return undefined;
        // Whoever waits has posted everything: what it waits for is always on its way to the thread.
        flush();
        return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      },
      digest() {
        if (ended) return Promise.reject(new Error("digest after digest or drop"));
        ended = true;
        if (!streams.has(id)) return Promise.reject(new Error("the sha256 thread stopped"));
        flush();
        return new Promise<string>((resolve, reject) => {
          state.settle = { resolve, reject };
          w.postMessage({ id, end: 1 });
        });
      },
      drop() {
        if (ended) return;
        ended = true;
        // Kept until the thread answers, so the reads of bytes still in flight run when they are done.
        if (!streams.has(id)) return;
        flush();
        w.postMessage({ id, drop: 1 });
      },
    };
  }

  return {
    open,
    /** Bytes posted to the thread and not yet hashed. */
    get queuedBytes() {
      return queued;
    },
    /** Streams open (fed, or waiting for a digest or a drop's answer). */
    get openStreams() {
      return streams.size;
    },
    /** Whether the thread is running now. */
    get threadRunning() {
      return worker !== undefined;
    },
    /** Streams opened so far. */
    get streamsOpened() {
      return opened;
    },
    /** Threads started so far (a new one after a crash). */
    get threadsStarted() {
      return started;
    },
    /** Resolves once no stream is open (a dropped stream stays open until the thread has answered its drop). */
    drained(): Promise<void> {
      if (streams.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => onDrained.push(resolve));
    },
    /** Ends the thread; streams in flight fail. Idempotent. */
    async close(): Promise<void> {
      closed = true;
      const w = worker;
      worker = undefined;
      failAll(new Error("the sha256 thread pool was closed"));
      if (w) await w.terminate();
    },
  };
}

export type HashPool = ReturnType<typeof createHashPool>;
