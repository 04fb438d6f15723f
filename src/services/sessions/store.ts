import { randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";

/** What a session remembers: which connection it uses and that connection's credentials, sealed (AES-GCM). */
export interface SessionRecord {
  connectionId: string;
  /** Sealed JSON of the credentials (see sealer.ts); never stored in the clear. */
  sealedCredentials?: string;
  createdAt: number;
}

/**
 * Where sessions live. Every call is async so a shared store (Redis, for several instances) can implement it; the
 * in-memory one below serves a single process.
 */
export interface SessionStore {
  /** Stores a record under a new unguessable id. */
  create(record: SessionRecord): Promise<string>;
  /** The record, refreshing its idle timer; undefined when unknown or expired. */
  touch(id: string): Promise<{ record: SessionRecord; expiresInMs: number } | undefined>;
  delete(id: string): Promise<void>;
  size(): Promise<number>;
}

export interface MemorySessionStoreOptions {
  /** A session unused this long expires. */
  idleMs: number;
  /** Most sessions held; beyond it the least recently used one is dropped. */
  max: number;
  now?: () => number;
}

export function createMemorySessionStore(options: MemorySessionStoreOptions): SessionStore {
  const now = options.now ?? Date.now;
  const sessions = new LRUCache<string, SessionRecord>({
    max: options.max,
    ttl: options.idleMs,
    updateAgeOnGet: true,
    perf: { now },
    ttlResolution: 0,
  });
  return {
    async create(record) {
      const id = randomBytes(32).toString("base64url");
      sessions.set(id, record);
      return id;
    },
    async touch(id) {
      const record = sessions.get(id);
      if (!record) return undefined;
      return { record, expiresInMs: sessions.getRemainingTTL(id) };
    },
    async delete(id) {
      sessions.delete(id);
    },
    async size() {
      return sessions.size;
    },
  };
}
