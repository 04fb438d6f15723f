import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { type FileHandle, mkdir, open, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { LRUCache } from "lru-cache";
import { GliderError } from "../errors.js";
import type { ObjectStore } from "../storage/object-store.js";
import type { SourceReader } from "../vcdiff/index.js";
import { type CompressionLetter, decompressStream, detectMagic } from "./compression.js";

/** A verified reference (or its decompressed form), readable by range; release it when done. */
export interface ReferenceHandle {
  readonly size: number;
  readonly source: SourceReader;
  /** Compressor magic of the raw reference, if any (§8.5). */
  readonly magic: CompressionLetter | undefined;
  /** The bytes when the reference is held in memory (backed by a SharedArrayBuffer, so workers need no copy). */
  readonly bytes: Uint8Array | undefined;
  /** The temp file holding the bytes when the reference was too large for memory. */
  readonly path: string | undefined;
  release(): void;
}

export interface ReferenceCacheOptions {
  /** Soft cap on reference bytes held in memory; larger references spill to a temp file. @default 256 MiB */
  maxBytes?: number;
  /** Spilled references kept for reuse. @default 4 */
  maxSpilledFiles?: number;
  tmpDir?: string;
}

type Variant = "raw" | "decompressed";

interface Entry {
  size: number;
  magic: CompressionLetter | undefined;
  bytes?: Uint8Array;
  file?: { path: string; handle: FileHandle };
  users: number;
  evicted: boolean;
}

function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

function fileReader(handle: FileHandle, size: number): SourceReader {
  return {
    size,
    async read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
        if (bytesRead === 0) throw new GliderError("integrity_failed", "reference shorter than expected");
        filled += bytesRead;
      }
      return out;
    },
  };
}

/**
 * Shared, process-wide reference cache: LRU by bytes, concurrent requests for one reference load it once, and every
 * entry is keyed by the sha256 it was verified against, so a replaced reference can never be served stale.
 * References above the memory cap are spilled to a temp file and read by range.
 */
export function createReferenceCache(store: ObjectStore, options: ReferenceCacheOptions = {}): ReferenceCache {
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  const spillDir = join(options.tmpDir ?? tmpdir(), `glider-references-${process.pid}`);
  let loads = 0;

  const dispose = (entry: Entry) => {
    entry.evicted = true;
    if (entry.users === 0) destroy(entry);
  };
  const memory = new LRUCache<string, Entry>({
    maxSize: maxBytes,
    sizeCalculation: (e) => Math.max(1, e.size),
    dispose,
  });
  const spilled = new LRUCache<string, Entry>({ max: options.maxSpilledFiles ?? 4, dispose });
  const inFlight = new Map<string, Promise<Entry>>();

  function destroy(entry: Entry) {
    if (entry.file) {
      const { handle, path } = entry.file;
      void handle.close().finally(() => unlink(path).catch(() => undefined));
    }
  }

  function handleFor(entry: Entry): ReferenceHandle {
    entry.users++;
    let released = false;
    return {
      size: entry.size,
      magic: entry.magic,
      bytes: entry.bytes,
      path: entry.file?.path,
      source: entry.bytes
        ? {
            size: entry.size,
            read: (offset, length) => (entry.bytes as Uint8Array).subarray(offset, offset + length),
          }
        : fileReader((entry.file as { handle: FileHandle }).handle, entry.size),
      release() {
        if (released) return;
        released = true;
        entry.users--;
        if (entry.evicted && entry.users === 0) destroy(entry);
      },
    };
  }

  async function spill(chunks: AsyncIterable<Uint8Array>, hash?: ReturnType<typeof createHash>) {
    await mkdir(spillDir, { recursive: true });
    const path = join(spillDir, randomUUID());
    let size = 0;
    let head: Uint8Array | undefined;
    await pipeline(
      chunks,
      async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          head ??= chunk.subarray(0, 4);
          hash?.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(path),
    );
    return { path, size, head: head ?? new Uint8Array(0) };
  }

  async function loadRaw(
    source: ObjectStore,
    bucket: string,
    key: string,
    sha256: string,
    signal?: AbortSignal,
  ): Promise<Entry> {
    loads++;
    let object: Awaited<ReturnType<ObjectStore["getObject"]>>;
    try {
      object = await source.getObject({ bucket, key, signal });
    } catch (error) {
      if (error instanceof GliderError && error.code === "key_not_found") {
        throw new GliderError("integrity_failed", `reference "${key}" is missing, so its deltas cannot be restored`, {
          bucket,
          reference: key,
        });
      }
      throw error;
    }
    const hash = createHash("sha256");
    let entry: Entry;
    if (object.contentLength <= maxBytes) {
      const bytes = sharedBuffer(object.contentLength);
      let filled = 0;
      for await (const chunk of object.body) {
        if (filled + chunk.length > bytes.length)
          throw new GliderError("integrity_failed", "reference grew while read");
        bytes.set(chunk, filled);
        filled += chunk.length;
      }
      hash.update(bytes.subarray(0, filled));
      entry = { size: filled, magic: detectMagic(bytes), bytes: bytes.subarray(0, filled), users: 0, evicted: false };
    } else {
      const file = await spill(object.body, hash);
      entry = {
        size: file.size,
        magic: detectMagic(file.head),
        file: { path: file.path, handle: await open(file.path, "r") },
        users: 0,
        evicted: false,
      };
    }
    const actual = hash.digest("hex");
    if (actual !== sha256) {
      destroy(entry);
      throw new GliderError(
        "integrity_failed",
        `reference "${key}" does not match its sha256 (Reference SHA mismatch)`,
        {
          bucket,
          reference: key,
          expected: sha256,
          actual,
        },
      );
    }
    return entry;
  }

  async function loadDecompressed(raw: ReferenceHandle): Promise<Entry> {
    if (!raw.magic) throw new Error("reference has no compressor magic");
    const rawChunks = (async function* () {
      const step = 1024 * 1024;
      for (let offset = 0; offset < raw.size; offset += step) {
        yield await raw.source.read(offset, Math.min(step, raw.size - offset));
      }
    })();
    const file = await spill(decompressStream(raw.magic, rawChunks));
    if (file.size > maxBytes) {
      return {
        size: file.size,
        magic: undefined,
        file: { path: file.path, handle: await open(file.path, "r") },
        users: 0,
        evicted: false,
      };
    }
    const handle = await open(file.path, "r");
    try {
      const bytes = sharedBuffer(file.size);
      await handle.read(bytes, 0, file.size, 0);
      return { size: file.size, magic: undefined, bytes, users: 0, evicted: false };
    } finally {
      await handle.close();
      await unlink(file.path).catch(() => undefined);
    }
  }

  /** `acquire` over one store; `scope` (its endpoint) keeps equal bucket names of different stores apart. */
  function acquirer(source: ObjectStore, scope: string) {
    return async function acquire(
      bucket: string,
      key: string,
      sha256: string,
      variant: Variant = "raw",
      signal?: AbortSignal,
    ): Promise<ReferenceHandle> {
      const id = `${scope}\0${bucket}\0${key}\0${sha256}\0${variant}`;
      const cached = memory.get(id) ?? spilled.get(id);
      if (cached) return handleFor(cached);
      let loading = inFlight.get(id);
      if (!loading) {
        loading = (async () => {
          let entry: Entry;
          if (variant === "raw") {
            entry = await loadRaw(source, bucket, key, sha256, signal);
          } else {
            const raw = await acquire(bucket, key, sha256, "raw", signal);
            try {
              entry = await loadDecompressed(raw);
            } finally {
              raw.release();
            }
          }
          if (entry.bytes) memory.set(id, entry);
          else spilled.set(id, entry);
          return entry;
        })();
        inFlight.set(id, loading);
        loading.finally(() => inFlight.delete(id)).catch(() => undefined);
      }
      const entry = await loading;
      // The LRU may already have evicted it; the handle keeps it alive until released.
      return handleFor(entry);
    };
  }
  const acquire = acquirer(store, "");

  const cache: ReferenceCache = {
    acquire,
    /**
     * The same cache (one memory budget, one spill folder) reading another store: per-session connections share the
     * process-wide cache, entries keyed by `scope` (the store's endpoint) + bucket + key + sha256. Closing the view is a
     * no-op; the owner closes the cache.
     */
    forStore(source: ObjectStore, scope: string): ReferenceCache {
      return {
        acquire: acquirer(source, scope),
        forStore: cache.forStore,
        get loads() {
          return loads;
        },
        clear: cache.clear,
        close: async () => undefined,
      };
    },
    /** How many times a reference was fetched from storage (for tests and metrics). */
    get loads() {
      return loads;
    },
    clear() {
      memory.clear();
      spilled.clear();
    },
    /** Drops every entry and removes the spill folder. */
    async close() {
      memory.clear();
      spilled.clear();
      await rm(spillDir, { recursive: true, force: true });
    },
  };
  return cache;
}

export interface ReferenceCache {
  acquire(
    bucket: string,
    key: string,
    sha256: string,
    variant?: Variant,
    signal?: AbortSignal,
  ): Promise<ReferenceHandle>;
  forStore(source: ObjectStore, scope: string): ReferenceCache;
  readonly loads: number;
  clear(): void;
  close(): Promise<void>;
}
