import { open } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

// The state word: 0 while the body arrives, then DONE or FAILED.
const DONE = 1;
const FAILED = 2;

/**
 * Lets an encode worker read an upload while it is still being spooled: the spooling thread records how many bytes
 * are in the file and whether the body ended, in shared memory the worker polls.
 */
export function createGrowingFile() {
  const shared = new SharedArrayBuffer(16);
  const written = new BigInt64Array(shared, 0, 1);
  const state = new Int32Array(shared, 8, 1);
  let total = 0;
  return {
    shared,
    /** `n` more bytes are in the file (call after the write completed). */
    advance(n: number) {
      total += n;
      Atomics.store(written, 0, BigInt(total));
    },
    finish() {
      Atomics.store(state, 0, DONE);
    },
    fail() {
      Atomics.store(state, 0, FAILED);
    },
  };
}

/** Size of the file once the body has ended; undefined while it is still arriving. */
export function finalSize(shared: SharedArrayBuffer): number | undefined {
  if (Atomics.load(new Int32Array(shared, 8, 1), 0) !== DONE) return undefined;
  return Number(Atomics.load(new BigInt64Array(shared, 0, 1), 0));
}

/**
 * The file's bytes as they are written, in chunks of up to `chunkSize` (one buffer, reused: consumers copy). Ends
 * when the writer finished and everything was read; throws when the writer failed.
 */
export async function* readGrowingFile(
  path: string,
  shared: SharedArrayBuffer,
  chunkSize = 1024 * 1024,
): AsyncGenerator<Uint8Array> {
  const written = new BigInt64Array(shared, 0, 1);
  const state = new Int32Array(shared, 8, 1);
  const handle = await open(path, "r");
  const buffer = Buffer.allocUnsafe(chunkSize);
  let offset = 0;
  try {
    for (;;) {
      const status = Atomics.load(state, 0);
      const available = Number(Atomics.load(written, 0));
      if (available > offset) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(chunkSize, available - offset), offset);
        if (bytesRead === 0) throw new Error(`upload spool is shorter than the ${available} bytes recorded`);
        offset += bytesRead;
        yield buffer.subarray(0, bytesRead);
        continue;
      }
      if (status === DONE) return;
      if (status === FAILED) throw new Error("the upload ended before its body was complete");
      // Polled: a body arrives at most a few MB per millisecond, and a 2 ms nap costs nothing measurable.
      await sleep(2);
    }
  } finally {
    await handle.close();
  }
}
export type GrowingFile = ReturnType<typeof createGrowingFile>;
