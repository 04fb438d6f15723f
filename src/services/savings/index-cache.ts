import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { DELTA_SUFFIX } from "../deltaglider/keys.js";
import type { IndexEntry, SavingsIndex, SavingsIndexStore } from "./index-store.js";
import type { BucketChange } from "./types.js";

/** Indexes held in memory (each ~100 bytes per object); the others are read from the index store when scanned. */
const INDEXES_IN_MEMORY = 16;

/**
 * The savings indexes of recently scanned buckets, in memory, in front of the index store (which holds every
 * bucket's). Glider's own uploads and deletes are applied in memory and written back later, in one write per bucket.
 * Store failures only cost HEADs on the next scan, so they are logged, never raised.
 */
export interface IndexCache {
  /** The bucket's index: in memory, else from the store; unreadable means none (the scan HEADs every delta). */
  load(bucket: string): Promise<SavingsIndex | undefined>;
  /** Keeps a scan's index; writes it back unless it equals `previous`, the one the scan started from. */
  keep(bucket: string, previous: SavingsIndex | undefined, index: SavingsIndex): Promise<void>;
  /** Applies an upload or delete to the bucket's index if it is in memory, and schedules the write-back. */
  apply(change: BucketChange): void;
  /** Cancels the scheduled write-back (at shutdown; `drain` writes everything instead). */
  stopTimer(): void;
  /** Waits for a write-back under way, then writes every changed index. */
  drain(): Promise<void>;
}

export interface IndexCacheOptions {
  /** Where indexes persist; without it they live in memory only. */
  store?: SavingsIndexStore;
  logger: Logger;
  /** Changes are written back this long after the first one (or at the next scan, or at `drain`). */
  flushMs: number;
}

export function createIndexCache({ store, logger, flushMs }: IndexCacheOptions): IndexCache {
  const indexes = new LRUCache<string, SavingsIndex>({ max: INDEXES_IN_MEMORY });
  /** Buckets whose in-memory index has changes (uploads, deletes) not written back yet. */
  const dirty = new Set<string>();
  let flushTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  async function load(bucket: string): Promise<SavingsIndex | undefined> {
    const held = indexes.get(bucket);
    if (held || !store) return held;
    try {
      const loaded = await store.load(bucket);
      if (loaded) indexes.set(bucket, loaded);
      return loaded;
    } catch (error) {
      logger.warn({ err: error, bucket }, "savings index unreadable: scanning without it");
      return undefined;
    }
  }

  /** Writes an index back; a failure only costs HEADs on the next scan, so it is logged, not raised. */
  async function save(bucket: string, index: SavingsIndex): Promise<void> {
    dirty.delete(bucket);
    if (!store) return;
    try {
      await store.save(bucket, index);
    } catch (error) {
      logger.warn({ err: error, bucket }, "savings index not written: the next scan HEADs what it cannot reuse");
    }
  }

  async function flushDirty(): Promise<void> {
    for (const bucket of [...dirty]) {
      const index = indexes.get(bucket);
      if (index) await save(bucket, index);
      else dirty.delete(bucket);
    }
  }

  function scheduleFlush() {
    if (flushTimer || !store) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      flushing = flushing.then(flushDirty);
    }, flushMs);
    flushTimer.unref();
  }

  async function keep(bucket: string, previous: SavingsIndex | undefined, index: SavingsIndex): Promise<void> {
    indexes.set(bucket, index);
    if (!previous || !sameIndex(previous, index)) await save(bucket, index);
  }

  function apply(change: BucketChange): void {
    const index = indexes.get(change.bucket);
    if (!index) return;
    // The logical key is now held by at most one physical object (uploads replace the other form, §4).
    index.delete(change.key);
    index.delete(`${change.key}${DELTA_SUFFIX}`);
    const stored = change.stored;
    if (stored?.etag) {
      index.set(stored.physicalKey, {
        etag: stored.etag,
        storedBytes: stored.storedBytes,
        originalBytes: stored.originalBytes,
      });
    }
    dirty.add(change.bucket);
    scheduleFlush();
  }

  function stopTimer(): void {
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }

  async function drain(): Promise<void> {
    await flushing;
    await flushDirty();
  }

  return { load, keep, apply, stopTimer, drain };
}

function sameIndex(a: SavingsIndex, b: SavingsIndex): boolean {
  if (a.size !== b.size) return false;
  for (const [key, x] of b) {
    const y: IndexEntry | undefined = a.get(key);
    if (
      !y ||
      y.etag !== x.etag ||
      y.storedBytes !== x.storedBytes ||
      y.originalBytes !== x.originalBytes ||
      y.modified !== x.modified
    ) {
      return false;
    }
  }
  return true;
}
