import { randomBytes } from "node:crypto";
import { GliderError, isGliderError } from "../errors.js";
import { createLocalLocks, type LockService } from "../shared/locks.js";
import type { ObjectStore } from "../storage/object-store.js";

/**
 * JSON records in Send's system bucket. Transfers, tokens and audit all keep their state here, in whatever backend
 * the process uses, so a restart (fs, S3) or a second instance (S3) sees the same records. It lives beside audit
 * because audit is the leaf every Send service depends on.
 */
export interface SystemStore {
  readonly bucket: string;
  readonly store: ObjectStore;
  /** Creates the bucket once; a failure is retried on the next call. */
  ensureBucket(): Promise<void>;
  /** The parsed record, or `undefined` when the key does not exist. */
  readJson<T>(key: string): Promise<T | undefined>;
  /** Writes a record; with `ifNoneMatch` it fails with `precondition_failed` when the key exists. */
  writeJson(key: string, value: unknown, options?: { ifNoneMatch?: "*" }): Promise<void>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Every key under `prefix`, all pages. */
  listKeys(prefix: string): Promise<string[]>;
  /** The `/`-delimited sub-folders directly under `prefix` (each ending in `/`), all pages. */
  listFolders(prefix: string): Promise<string[]>;
  /**
   * Runs `fn` after every earlier `withLock` of the same name has settled: read-modify-write of one record never
   * interleaves. In-process by default (one instance); with the Redis locks, across every instance.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Whether a `withLock` of this name is running or queued (the sweeper skips busy records). */
  isLocked(name: string): boolean;
}

/** 16+ random bytes as base64url: unguessable ids (22 characters for 16 bytes). */
export function newRandomId(bytes = 16): string {
  return randomBytes(bytes).toString("base64url");
}

function isMissing(error: unknown): boolean {
  return isGliderError(error) && error.code === "key_not_found";
}

export function createSystemStore(
  store: ObjectStore,
  bucket: string,
  locks: LockService = createLocalLocks(),
): SystemStore {
  let ensured: Promise<void> | undefined;

  function ensureBucket(): Promise<void> {
    ensured ??= store.createBucket(bucket).catch((error) => {
      ensured = undefined;
      throw error;
    });
    return ensured;
  }

  async function listAll(prefix: string, delimiter?: string) {
    await ensureBucket();
    const keys: string[] = [];
    const folders: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await store.listObjects({ bucket, prefix, delimiter, continuationToken });
      for (const object of page.objects) keys.push(object.key);
      folders.push(...page.commonPrefixes);
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
    return { keys, folders };
  }

  return {
    bucket,
    store,
    ensureBucket,

    async readJson<T>(key: string): Promise<T | undefined> {
      await ensureBucket();
      let body: NodeJS.ReadableStream;
      try {
        body = (await store.getObject({ bucket, key })).body;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
      try {
        return JSON.parse(Buffer.concat(chunks).toString("utf8")) as T;
      } catch (error) {
        throw new GliderError("internal", `system record ${key} is not valid JSON`, { key }, { cause: error });
      }
    },

    async writeJson(key, value, options = {}) {
      await ensureBucket();
      await store.putObject({
        bucket,
        key,
        body: Buffer.from(JSON.stringify(value)),
        contentType: "application/json",
        ifNoneMatch: options.ifNoneMatch,
      });
    },

    async exists(key) {
      await ensureBucket();
      try {
        await store.headObject(bucket, key);
        return true;
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
    },

    async delete(key) {
      await ensureBucket();
      await store.deleteObject(bucket, key);
    },

    async listKeys(prefix) {
      return (await listAll(prefix)).keys;
    },

    async listFolders(prefix) {
      return (await listAll(prefix, "/")).folders;
    },

    withLock: locks.withLock,

    isLocked: locks.isLocked,
  };
}
