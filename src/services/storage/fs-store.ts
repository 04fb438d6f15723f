import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { access, link, mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GliderError } from "../errors.js";
import { bareEtag, iterateBody, readableMetadata, resolveRange } from "./body.js";
import { decodeSegment, keyToPath, META_SUFFIX, prefixToFolder } from "./fs-paths.js";
import { openTempArea } from "./fs-temp.js";
import { assertValidBucketName, compareKeys } from "./keys.js";
import type {
  BucketSummary,
  CopyObjectInput,
  GetObjectInput,
  GetObjectResult,
  ListObjectsInput,
  ListObjectsPage,
  ObjectHead,
  ObjectStore,
  ObjectSummary,
  PutObjectInput,
  PutObjectResult,
} from "./object-store.js";
import { paginate } from "./paginate.js";

/** The commit record of one object; renaming it into place is what makes a write visible. */
interface MetaRecord {
  v: 1;
  blob: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  metadata: Record<string, string>;
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Filesystem store under `dataDir/<bucket>/…` (the embedded default). Writes land in this instance's own folder
 * below `dataDir/.glider-tmp` (fs-temp.ts: other processes sharing the dir never touch it) and are renamed into
 * place, bytes first and commit record last, so a reader or a crash never exposes a partial object.
 */
export function createFsStore(dataDir: string): ObjectStore {
  const root = resolve(dataDir);
  const temp = openTempArea(root);
  const tmpRoot = temp.dir;
  const ready = temp.ready;
  /**
   * A fresh temp file name in this instance's folder. The folder is made again if it is gone: a store on another host
   * may have swept it after a day without writes (it cannot tell an idle live process from a dead one).
   */
  async function tempPath(): Promise<string> {
    await mkdir(tmpRoot, { recursive: true });
    return join(tmpRoot, randomUUID());
  }

  /** Serialises writers of one key in this process so an overwrite never orphans the previous version's bytes. */
  const keyLocks = new Map<string, Promise<unknown>>();

  async function withKeyLock<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucket}\0${key}`;
    const previous = keyLocks.get(id) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    keyLocks.set(id, settled);
    try {
      return await run;
    } finally {
      if (keyLocks.get(id) === settled) keyLocks.delete(id);
    }
  }

  function bucketDir(bucket: string): string {
    assertValidBucketName(bucket);
    return join(root, bucket);
  }

  async function assertBucket(bucket: string): Promise<string> {
    const dir = bucketDir(bucket);
    await ready;
    try {
      if ((await stat(dir)).isDirectory()) return dir;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
  }

  function locate(bucketPath: string, key: string) {
    const { folders, name } = keyToPath(key);
    const folder = join(bucketPath, ...folders);
    return { folder, name, meta: join(folder, name + META_SUFFIX) };
  }

  async function readMeta(metaPath: string): Promise<MetaRecord | undefined> {
    try {
      return JSON.parse(await readFile(metaPath, "utf8")) as MetaRecord;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  function toHead(key: string, meta: MetaRecord): ObjectHead {
    return {
      key,
      size: meta.size,
      etag: meta.etag,
      lastModified: new Date(meta.lastModified),
      contentType: meta.contentType,
      metadata: { ...meta.metadata },
    };
  }

  async function headOrThrow(bucket: string, key: string) {
    const bucketPath = await assertBucket(bucket);
    const where = locate(bucketPath, key);
    const meta = await readMeta(where.meta);
    if (!meta) throw new GliderError("key_not_found", `key "${key}" not found in bucket "${bucket}"`, { bucket, key });
    return { where, meta };
  }

  /** Removes now-empty folders between `folder` and the bucket folder. */
  async function pruneFolders(bucketPath: string, folder: string) {
    let current = folder;
    while (current.length > bucketPath.length && current.startsWith(bucketPath)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = resolve(current, "..");
    }
  }

  async function commit(
    bucket: string,
    key: string,
    blobTmp: string,
    record: Omit<MetaRecord, "blob" | "v">,
    ifNoneMatch?: "*",
    ifMatch?: string,
  ): Promise<PutObjectResult> {
    const bucketPath = await assertBucket(bucket);
    const where = locate(bucketPath, key);
    return withKeyLock(bucket, key, async () => {
      const previous = await readMeta(where.meta);
      if (ifNoneMatch === "*" && previous) {
        throw new GliderError("precondition_failed", `key "${key}" already exists`, { bucket, key });
      }
      // Under the key lock: atomic within this process (a second process writing the same key is not excluded).
      if (ifMatch !== undefined && (!previous || bareEtag(previous.etag) !== bareEtag(ifMatch))) {
        throw new GliderError("precondition_failed", `key "${key}" does not have ETag ${ifMatch}`, { bucket, key });
      }
      await mkdir(where.folder, { recursive: true });
      const blob = `${where.name}@${randomUUID()}`;
      const metaTmp = join(tmpRoot, `${randomUUID()}.meta`);
      try {
        await rename(blobTmp, join(where.folder, blob));
        await writeFile(metaTmp, JSON.stringify({ v: 1, blob, ...record } satisfies MetaRecord));
        if (ifNoneMatch === "*") {
          // link() fails when the target exists, which makes the create atomic across processes too.
          await link(metaTmp, where.meta).catch(async (error: NodeJS.ErrnoException) => {
            await unlink(join(where.folder, blob)).catch(() => undefined);
            if (error.code === "EEXIST") {
              throw new GliderError("precondition_failed", `key "${key}" already exists`, { bucket, key });
            }
            throw error;
          });
          await unlink(metaTmp);
        } else {
          await rename(metaTmp, where.meta);
        }
      } catch (error) {
        await unlink(metaTmp).catch(() => undefined);
        await pruneFolders(bucketPath, where.folder);
        throw error;
      }
      if (previous && previous.blob !== blob) await unlink(join(where.folder, previous.blob)).catch(() => undefined);
      return { etag: record.etag, size: record.size };
    });
  }

  /** Escaped names under the folder of `prefix`: objects, plus sub-folders as `name/` keys when not recursing. */
  async function collectKeys(bucketPath: string, prefix: string, recursive: boolean): Promise<string[]> {
    const { folders } = prefixToFolder(prefix);
    const keyPrefix = folders
      .map(decodeSegment)
      .map((s) => `${s}/`)
      .join("");
    const keys: string[] = [];
    async function walk(dir: string, keyBase: string) {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.name.startsWith(".")) continue;
        if (entry.isDirectory()) {
          const sub = `${keyBase}${decodeSegment(entry.name)}/`;
          if (!sub.startsWith(prefix) && !prefix.startsWith(sub)) continue;
          if (recursive) await walk(join(dir, entry.name), sub);
          else keys.push(sub);
        } else if (entry.name.endsWith(META_SUFFIX)) {
          keys.push(keyBase + decodeSegment(entry.name.slice(0, -META_SUFFIX.length)));
        }
      }
    }
    await walk(join(bucketPath, ...folders), keyPrefix);
    return keys.filter((k) => k.startsWith(prefix)).sort(compareKeys);
  }

  return {
    kind: "fs",
    capabilities: { presign: false, conditionalPut: true },

    async listBuckets(): Promise<BucketSummary[]> {
      await ready;
      const out: BucketSummary[] = [];
      for (const entry of await readdir(root, { withFileTypes: true })) {
        if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
        const info = await stat(join(root, entry.name));
        out.push({ name: entry.name, createdAt: info.birthtimeMs > 0 ? info.birthtime : info.ctime });
      }
      return out.sort((a, b) => compareKeys(a.name, b.name));
    },

    async createBucket(bucket) {
      const dir = bucketDir(bucket);
      await ready;
      await mkdir(dir, { recursive: true });
    },

    async deleteBucket(bucket) {
      const dir = await assertBucket(bucket);
      if ((await collectKeys(dir, "", true)).length > 0) {
        throw new GliderError("bucket_not_empty", `bucket "${bucket}" is not empty`, { bucket });
      }
      await rm(dir, { recursive: true, force: true });
    },

    async bucketExists(bucket) {
      try {
        await assertBucket(bucket);
        return true;
      } catch (error) {
        if (error instanceof GliderError && error.code === "bucket_not_found") return false;
        throw error;
      }
    },

    async listObjects(input: ListObjectsInput): Promise<ListObjectsPage> {
      const bucketPath = await assertBucket(input.bucket);
      const prefix = input.prefix ?? "";
      // With "/" as delimiter one folder holds the whole answer; any other delimiter needs the full subtree.
      const keys = await collectKeys(bucketPath, prefix, input.delimiter !== "/");
      const placeholder = new Date(0);
      const page = paginate(
        keys.map((key) => ({ key, size: 0, etag: "", lastModified: placeholder })),
        input,
      );
      const objects: ObjectSummary[] = [];
      const heads = await Promise.all(page.objects.map(({ key }) => readMeta(locate(bucketPath, key).meta)));
      page.objects.forEach(({ key }, i) => {
        const meta = heads[i];
        if (meta) objects.push({ key, size: meta.size, etag: meta.etag, lastModified: new Date(meta.lastModified) });
      });
      return { ...page, objects };
    },

    async headObject(bucket, key) {
      const { meta } = await headOrThrow(bucket, key);
      return toHead(key, meta);
    },

    async getObject(input: GetObjectInput): Promise<GetObjectResult> {
      for (let attempt = 0; ; attempt++) {
        const { where, meta } = await headOrThrow(input.bucket, input.key);
        const head = toHead(input.key, meta);
        if (meta.size === 0 && !input.range) {
          return { head, contentLength: 0, body: Readable.from([]) };
        }
        const { start, end } = resolveRange(input.range, meta.size);
        const body = createReadStream(join(where.folder, meta.blob), { start, end, signal: input.signal });
        try {
          // Opening before returning turns "overwritten since we read the record" into a retry, not a stream error.
          await new Promise<void>((ok, fail) => {
            body.once("open", () => ok());
            body.once("error", fail);
          });
          return { head, contentLength: end - start + 1, body };
        } catch (error) {
          body.destroy();
          if (!isNotFound(error) || attempt >= 2) throw error;
        }
      }
    },

    async putObject(input: PutObjectInput): Promise<PutObjectResult> {
      keyToPath(input.key);
      await assertBucket(input.bucket);
      const blobTmp = await tempPath();
      const md5 = createHash("md5");
      let size = 0;
      try {
        await pipeline(
          iterateBody(input.body),
          async function* (source: AsyncIterable<Uint8Array>) {
            for await (const chunk of source) {
              md5.update(chunk);
              size += chunk.length;
              yield chunk;
            }
          },
          createWriteStream(blobTmp),
          { signal: input.signal },
        );
        return await commit(
          input.bucket,
          input.key,
          blobTmp,
          {
            size,
            etag: `"${md5.digest("hex")}"`,
            lastModified: new Date().toISOString(),
            contentType: input.contentType ?? "application/octet-stream",
            metadata: readableMetadata(input.metadata),
          },
          input.ifNoneMatch,
          input.ifMatch,
        );
      } finally {
        await unlink(blobTmp).catch(() => undefined);
      }
    },

    async deleteObject(bucket, key) {
      const bucketPath = await assertBucket(bucket);
      const where = locate(bucketPath, key);
      await withKeyLock(bucket, key, async () => {
        const meta = await readMeta(where.meta);
        if (!meta) return;
        await unlink(where.meta).catch((error) => {
          if (!isNotFound(error)) throw error;
        });
        await unlink(join(where.folder, meta.blob)).catch(() => undefined);
        await pruneFolders(bucketPath, where.folder);
      });
    },

    async copyObject(input: CopyObjectInput) {
      const { where, meta } = await headOrThrow(input.bucket, input.sourceKey);
      keyToPath(input.destinationKey);
      const blobTmp = await tempPath();
      try {
        await pipeline(createReadStream(join(where.folder, meta.blob)), createWriteStream(blobTmp), {
          signal: input.signal,
        });
        return await commit(input.bucket, input.destinationKey, blobTmp, {
          size: meta.size,
          etag: meta.etag,
          lastModified: new Date().toISOString(),
          contentType: meta.contentType,
          metadata: input.metadata ? readableMetadata(input.metadata) : { ...meta.metadata },
        });
      } finally {
        await unlink(blobTmp).catch(() => undefined);
      }
    },

    async presign() {
      throw new GliderError("unsupported", "the filesystem store cannot presign URLs");
    },

    async ping() {
      await ready;
      await access(root);
    },

    async close() {
      await temp.release();
    },
  };
}
