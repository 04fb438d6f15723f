import { type LeasedChunk, sharedBuffer } from "../leased-chunks.js";
import { createMemoryBudget } from "./memory-budget.js";

export interface WindowSlot {
  /** The buffer to decode a window of `length` bytes into: a recycled one when it fits the pool's unit. */
  allocate(length: number): Uint8Array;
  /** Gives the slot back (its buffer to the pool, its bytes to the budget). Idempotent. */
  free(): void;
  /**
   * Lends the decoded window out as chunks: the slot is freed once `done()` was called and every chunk released.
   * If chunks are still out `stallMs` after `done()` (a client that stopped reading), the slot's budget is given
   * back anyway and its buffer is left to the GC instead of the pool, so stalled clients cannot starve the rest.
   */
  lend(stallMs: number): { chunk(bytes: Uint8Array): LeasedChunk; done(): void };
}

/**
 * Window memory the sha256 thread (hash-pool.ts) can read in place: posting a view of a SharedArrayBuffer shares
 * it, where ordinary memory would have to be copied. (Zero-filled once, when the pool grows.)
 */
function sharedBytes(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(length));
}

/**
 * Decoded-window buffers shared by all reconstructions: at most `capacity / unit` are in use at once (more
 * reconstructions wait for a slot), and freed buffers are reused. A fresh 8 MiB buffer per window made every
 * download churn through its whole size in large allocations that the allocator and GC hand back late: 50
 * concurrent 100 MB downloads peaked above 1.3 GB of RSS with only 64 MiB of windows live at any moment.
 */
export function createWindowPool(capacity: number, unit: number) {
  const budget = createMemoryBudget(capacity);
  const spare: Buffer[] = [];
  let abandoned = 0;

  async function acquire(signal?: AbortSignal): Promise<WindowSlot> {
    const release = await budget.acquire(unit, signal);
    let buffer: Buffer | undefined;
    let freed = false;
    const slot: WindowSlot = {
      allocate(length) {
        if (freed) throw new Error("window slot used after free");
        // Larger windows than the unit (xdelta3 -W up to 16 MiB) are rare: give them their own buffer.
        if (length > unit) return sharedBytes(length);
        buffer ??= spare.pop() ?? sharedBytes(unit);
        return buffer.subarray(0, length);
      },
      free() {
        if (freed) return;
        freed = true;
        if (buffer) spare.push(buffer);
        buffer = undefined;
        release();
      },
      lend(stallMs) {
        let timer: NodeJS.Timeout | undefined;
        const shared = sharedBuffer(() => {
          clearTimeout(timer);
          slot.free();
        });
        return {
          chunk: shared.chunk,
          done() {
            shared.done();
            if (freed) return;
            timer = setTimeout(() => {
              if (freed) return;
              freed = true;
              buffer = undefined;
              abandoned++;
              release();
            }, stallMs);
            timer.unref();
          },
        };
      },
    };
    return slot;
  }

  return {
    acquire,
    /** Buffers kept for reuse (at most capacity / unit, plus none while all are in use). */
    get spareBuffers() {
      return spare.length;
    },
    get usedBytes() {
      return budget.used;
    },
    /** Slots given back after a stall, their buffers left to the GC. */
    get abandoned() {
      return abandoned;
    },
  };
}

export type WindowPool = ReturnType<typeof createWindowPool>;
