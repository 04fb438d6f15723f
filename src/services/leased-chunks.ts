import { Readable } from "node:stream";

/**
 * Bytes that may live in a recycled buffer. The consumer calls `release()` exactly once, when it no longer needs
 * them (for a socket: when the write callback fired); until then the producer will not reuse the memory. This is how
 * downloads send decoded windows without a fresh allocation per window (see README, "Download memory").
 */
export interface LeasedChunk {
  readonly bytes: Uint8Array;
  /** True when the memory returns to a pool on release: a consumer keeping the bytes must copy them first. */
  readonly recycled: boolean;
  release(): void;
}

const noop = () => {};

/** Bytes nobody recycles: release does nothing. */
export function ownedChunk(bytes: Uint8Array): LeasedChunk {
  return { bytes, recycled: false, release: noop };
}

export async function* ownedChunks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<LeasedChunk> {
  for await (const bytes of chunks) yield ownedChunk(bytes);
}

/**
 * Shares one recycled buffer among the chunks cut from it: `onFree` runs once the producer has called `done()` and
 * every chunk handed out has been released.
 */
export function sharedBuffer(onFree: () => void) {
  let holders = 1;
  const drop = () => {
    holders--;
    if (holders === 0) onFree();
  };
  return {
    chunk(bytes: Uint8Array): LeasedChunk {
      holders++;
      let released = false;
      return {
        bytes,
        recycled: true,
        release() {
          if (released) return;
          released = true;
          drop();
        },
      };
    },
    done: drop,
  };
}

/**
 * The same lease for two consumers (a socket and a hashing thread, say): the returned chunk is released by the
 * first, `done` is called by the second, and the original is released once both have.
 */
export function leasedTwice(chunk: LeasedChunk): { chunk: LeasedChunk; done: () => void } {
  let holders = 2;
  const drop = () => {
    holders--;
    if (holders === 0) chunk.release();
  };
  let released = false;
  let done = false;
  return {
    chunk: {
      bytes: chunk.bytes,
      recycled: chunk.recycled,
      release() {
        if (released) return;
        released = true;
        drop();
      },
    },
    done() {
      if (done) return;
      done = true;
      drop();
    },
  };
}

/** The bytes as plain chunks the consumer may keep: recycled ones are copied and released at once. */
export async function* copiedChunks(chunks: AsyncIterable<LeasedChunk>): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    if (!chunk.recycled) {
      yield chunk.bytes;
      continue;
    }
    const copy = Buffer.from(chunk.bytes);
    chunk.release();
    yield copy;
  }
}

export function leasedToReadable(chunks: AsyncIterable<LeasedChunk>): Readable {
  return Readable.from(copiedChunks(chunks), { objectMode: false });
}
