import { Readable } from "node:stream";
import { GliderError } from "../errors.js";
import { bareEtag, cloneHead, md5Etag, readAll, readableMetadata, resolveRange } from "./body.js";
import { assertValidBucketName, assertValidKey, compareKeys } from "./keys.js";
import type {
  BucketSummary,
  CopyObjectInput,
  GetObjectInput,
  GetObjectResult,
  ListObjectsInput,
  ListObjectsPage,
  ObjectHead,
  ObjectStore,
  PutObjectInput,
  PutObjectResult,
} from "./object-store.js";
import { paginate } from "./paginate.js";

interface StoredObject {
  head: ObjectHead;
  data: Buffer;
}

interface MemoryBucket {
  createdAt: Date;
  objects: Map<string, StoredObject>;
  /** Keys in UTF-8 order, maintained on insert/delete so listings need no sort. */
  sortedKeys: string[];
}

function insertionIndex(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(sorted[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** In-process store with S3 semantics, for fast tests. */
export function createMemoryStore(): ObjectStore {
  const buckets = new Map<string, MemoryBucket>();

  function bucketOf(name: string): MemoryBucket {
    const bucket = buckets.get(name);
    if (!bucket) throw new GliderError("bucket_not_found", `bucket "${name}" does not exist`, { bucket: name });
    return bucket;
  }

  function objectOf(bucket: string, key: string): StoredObject {
    const found = bucketOf(bucket).objects.get(key);
    if (!found) throw new GliderError("key_not_found", `key "${key}" not found in bucket "${bucket}"`, { bucket, key });
    return found;
  }

  function store(bucketName: string, key: string, data: Buffer, contentType: string, metadata: Record<string, string>) {
    const bucket = bucketOf(bucketName);
    if (!bucket.objects.has(key)) bucket.sortedKeys.splice(insertionIndex(bucket.sortedKeys, key), 0, key);
    const head: ObjectHead = {
      key,
      size: data.length,
      etag: md5Etag(data),
      lastModified: new Date(),
      contentType,
      metadata,
    };
    bucket.objects.set(key, { head, data });
    return { etag: head.etag, size: data.length };
  }

  return {
    kind: "memory",
    capabilities: { presign: false, conditionalPut: true },

    async listBuckets(): Promise<BucketSummary[]> {
      return [...buckets.entries()]
        .sort(([a], [b]) => compareKeys(a, b))
        .map(([name, b]) => ({ name, createdAt: new Date(b.createdAt) }));
    },

    async createBucket(bucket) {
      assertValidBucketName(bucket);
      if (!buckets.has(bucket)) buckets.set(bucket, { createdAt: new Date(), objects: new Map(), sortedKeys: [] });
    },

    async deleteBucket(bucket) {
      if (bucketOf(bucket).objects.size > 0) {
        throw new GliderError("bucket_not_empty", `bucket "${bucket}" is not empty`, { bucket });
      }
      buckets.delete(bucket);
    },

    async bucketExists(bucket) {
      return buckets.has(bucket);
    },

    async listObjects(input: ListObjectsInput): Promise<ListObjectsPage> {
      const bucket = bucketOf(input.bucket);
      const prefix = input.prefix ?? "";
      const start = insertionIndex(bucket.sortedKeys, prefix);
      function* entries() {
        for (let i = start; i < bucket.sortedKeys.length; i++) {
          const stored = bucket.objects.get(bucket.sortedKeys[i]);
          if (stored) {
            const { key, size, etag, lastModified } = stored.head;
            yield { key, size, etag, lastModified: new Date(lastModified) };
          }
        }
      }
      return paginate(entries(), input);
    },

    async headObject(bucket, key) {
      return cloneHead(objectOf(bucket, key).head);
    },

    async getObject(input: GetObjectInput): Promise<GetObjectResult> {
      const stored = objectOf(input.bucket, input.key);
      if (stored.data.length === 0 && !input.range) {
        return { head: cloneHead(stored.head), contentLength: 0, body: Readable.from([]) };
      }
      const { start, end } = resolveRange(input.range, stored.data.length);
      const slice = stored.data.subarray(start, end + 1);
      return { head: cloneHead(stored.head), contentLength: slice.length, body: Readable.from([slice]) };
    },

    async putObject(input: PutObjectInput): Promise<PutObjectResult> {
      assertValidKey(input.key);
      bucketOf(input.bucket);
      const data = await readAll(input.body);
      input.signal?.throwIfAborted();
      if (input.ifNoneMatch === "*" && bucketOf(input.bucket).objects.has(input.key)) {
        throw new GliderError("precondition_failed", `key "${input.key}" already exists`, {
          bucket: input.bucket,
          key: input.key,
        });
      }
      if (input.ifMatch !== undefined) {
        const current = bucketOf(input.bucket).objects.get(input.key)?.head.etag;
        if (current === undefined || bareEtag(current) !== bareEtag(input.ifMatch)) {
          throw new GliderError("precondition_failed", `key "${input.key}" does not have ETag ${input.ifMatch}`, {
            bucket: input.bucket,
            key: input.key,
          });
        }
      }
      return store(
        input.bucket,
        input.key,
        Buffer.from(data),
        input.contentType ?? "application/octet-stream",
        readableMetadata(input.metadata),
      );
    },

    async deleteObject(bucketName, key) {
      const bucket = bucketOf(bucketName);
      if (bucket.objects.delete(key)) bucket.sortedKeys.splice(insertionIndex(bucket.sortedKeys, key), 1);
    },

    async copyObject(input: CopyObjectInput) {
      assertValidKey(input.destinationKey);
      const source = objectOf(input.bucket, input.sourceKey);
      const metadata = input.metadata ? readableMetadata(input.metadata) : { ...source.head.metadata };
      return store(input.bucket, input.destinationKey, source.data, source.head.contentType, metadata);
    },

    async presign() {
      throw new GliderError("unsupported", "the memory store cannot presign URLs");
    },

    async ping() {},

    async close() {},
  };
}
