import { Readable } from "node:stream";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { GliderError } from "../errors.js";
import { bareEtag, iterateBody, lowerCaseMetadata, readableMetadata } from "./body.js";
import { assertValidBucketName, assertValidKey, clampMaxKeys, compareKeys } from "./keys.js";
import type {
  CopyObjectInput,
  GetObjectInput,
  ListObjectsInput,
  ObjectHead,
  ObjectStore,
  PresignInput,
  PutObjectInput,
} from "./object-store.js";
import { errorName, httpStatusOf } from "./sdk-errors.js";

/**
 * LISTs in flight to read one large folder. Four walked a 30,000-key RGW folder in 0.53x the time of one (two:
 * 0.64x; eight: no better than four, the server's CPU is the limit); see bench/RESULTS.md, issue 18.
 */
const LIST_CONCURRENCY = 4;

export interface S3StoreOptions {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Only for tests and explicit configuration; production uses the default AWS credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Bodies larger than this go through multipart upload. @default 64 MiB */
  multipartThreshold?: number;
}

/** Maps an SDK failure onto Glider's codes: the caller learns "missing" vs "refused" vs "S3 is unwell". */
function toGliderError(error: unknown, bucket?: string, key?: string): never {
  if (error instanceof GliderError) throw error;
  const name = errorName(error);
  const status = httpStatusOf(error);
  if (name === "NoSuchBucket")
    throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
  if (name === "NoSuchKey" || name === "NotFound" || status === 404) {
    if (key === undefined) throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
    throw new GliderError("key_not_found", `key "${key}" not found in bucket "${bucket}"`, { bucket, key });
  }
  if (name === "PreconditionFailed" || status === 412) {
    throw new GliderError("precondition_failed", `key "${key}" already exists`, { bucket, key });
  }
  if (name === "AbortError") throw error;
  if (name === "SlowDown" || status === 503) {
    throw new GliderError("throttled", "the object store asked us to slow down", { bucket, key }, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  throw new GliderError(
    "sdk_error",
    `S3 request failed: ${name || "error"}: ${message}`,
    { bucket, key },
    { cause: error },
  );
}

/**
 * User metadata as it may travel in headers: names lower-cased, values outside printable ASCII as an RFC 2047
 * encoded word. Node would send such a value as latin1 bytes while the SDK signs it as UTF-8, which a strict server
 * (Ceph RGW) rejects as SignatureDoesNotMatch; AWS S3 stores and returns the encoded word form anyway.
 */
function sendableMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out = lowerCaseMetadata(metadata);
  for (const [name, value] of Object.entries(out)) {
    if (!/^[\x20-\x7e]*$/.test(value)) out[name] = `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
  }
  return out;
}

export function createS3Store(options: S3StoreOptions): ObjectStore {
  const config: S3ClientConfig = {
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    // DeltaGlider disables the automatic CRC checksums because some S3-compatible stores reject them (format doc §3.7).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) config.credentials = options.credentials;
  const client = new S3Client(config);
  // The SDK's logger middleware copies every answer through its sensitive-field filter to hand it to the client's
  // logger, even to the default one that drops it: for a 1,000-key LIST a walk of every entry per page, for nothing
  // (Glider logs storage calls itself: instrumented-store.ts).
  client.middlewareStack.remove("loggerMiddleware");
  const multipartThreshold = options.multipartThreshold ?? 64 * 1024 * 1024;

  async function head(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead> {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: out.ETag ?? "",
        lastModified: out.LastModified ?? new Date(0),
        contentType: out.ContentType ?? "application/octet-stream",
        metadata: readableMetadata(out.Metadata),
      };
    } catch (error) {
      // HEAD has no body, so a missing bucket also arrives as a bare 404.
      if (httpStatusOf(error) === 404) {
        const exists = await bucketExists(bucket, signal);
        if (!exists) throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
      }
      toGliderError(error, bucket, key);
    }
  }

  async function bucketExists(bucket: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
      return true;
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 404 || errorName(error) === "NotFound") return false;
      toGliderError(error, bucket);
    }
  }

  return {
    kind: "s3",
    capabilities: { presign: true, conditionalPut: true, listConcurrency: LIST_CONCURRENCY },

    async listBuckets(signal) {
      try {
        const out = await client.send(new ListBucketsCommand({}), { abortSignal: signal });
        return (out.Buckets ?? [])
          .map((b) => ({ name: b.Name ?? "", createdAt: b.CreationDate ?? new Date(0) }))
          .sort((a, b) => compareKeys(a.name, b.name));
      } catch (error) {
        toGliderError(error);
      }
    },

    async createBucket(bucket) {
      assertValidBucketName(bucket);
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (error) {
        const name = errorName(error);
        if (name === "BucketAlreadyOwnedByYou" || name === "BucketAlreadyExists") return;
        toGliderError(error, bucket);
      }
    },

    async deleteBucket(bucket, signal) {
      try {
        await client.send(new DeleteBucketCommand({ Bucket: bucket }), { abortSignal: signal });
      } catch (error) {
        if (errorName(error) === "BucketNotEmpty") {
          throw new GliderError("bucket_not_empty", `bucket "${bucket}" is not empty`, { bucket });
        }
        toGliderError(error, bucket);
      }
    },

    bucketExists,

    async listObjects(input: ListObjectsInput) {
      try {
        const out = await client.send(
          new ListObjectsV2Command({
            Bucket: input.bucket,
            Prefix: input.prefix || undefined,
            Delimiter: input.delimiter || undefined,
            ContinuationToken: input.continuationToken || undefined,
            StartAfter: input.continuationToken ? undefined : input.startAfter || undefined,
            MaxKeys: clampMaxKeys(input.maxKeys),
          }),
          { abortSignal: input.signal },
        );
        return {
          objects: (out.Contents ?? []).map((o) => ({
            key: o.Key ?? "",
            size: o.Size ?? 0,
            etag: o.ETag ?? "",
            lastModified: o.LastModified ?? new Date(0),
          })),
          commonPrefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? ""),
          isTruncated: out.IsTruncated === true,
          nextContinuationToken: out.IsTruncated ? out.NextContinuationToken : undefined,
        };
      } catch (error) {
        toGliderError(error, input.bucket);
      }
    },

    headObject: head,

    async getObject(input: GetObjectInput) {
      const range = input.range ? `bytes=${input.range.start}-${input.range.end ?? ""}` : undefined;
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key, Range: range }), {
          abortSignal: input.signal,
        });
        const body = out.Body instanceof Readable ? out.Body : Readable.from([]);
        const size = range
          ? Number(out.ContentRange?.split("/")[1] ?? out.ContentLength ?? 0)
          : (out.ContentLength ?? 0);
        return {
          head: {
            key: input.key,
            size,
            etag: out.ETag ?? "",
            lastModified: out.LastModified ?? new Date(0),
            contentType: out.ContentType ?? "application/octet-stream",
            metadata: readableMetadata(out.Metadata),
          },
          contentLength: out.ContentLength ?? 0,
          body,
        };
      } catch (error) {
        if (errorName(error) === "InvalidRange") {
          throw new GliderError("invalid_request", "range not satisfiable", { range: input.range });
        }
        toGliderError(error, input.bucket, input.key);
      }
    },

    async putObject(input: PutObjectInput) {
      assertValidKey(input.key);
      const common = {
        Bucket: input.bucket,
        Key: input.key,
        ContentType: input.contentType ?? "application/octet-stream",
        Metadata: sendableMetadata(input.metadata),
        IfNoneMatch: input.ifNoneMatch,
        // Ceph RGW compares If-Match against the bare ETag (a quoted one never matches); AWS S3 accepts either.
        IfMatch: input.ifMatch === undefined ? undefined : bareEtag(input.ifMatch),
      };
      try {
        if (input.body instanceof Uint8Array && input.body.length <= multipartThreshold) {
          const out = await client.send(new PutObjectCommand({ ...common, Body: input.body }), {
            abortSignal: input.signal,
          });
          return { etag: out.ETag ?? "", size: input.body.length };
        }
        // A body that fits one part goes up as one PutObject bound to the signal: lib-storage sends its own single
        // PUT without the abort signal, so a cancelled upload could still land when a stalled store resumed.
        const partSize = 8 * 1024 * 1024;
        const source = iterateBody(input.body)[Symbol.asyncIterator]();
        const firstPart: Uint8Array[] = [];
        let size = 0;
        let done = false;
        while (size <= partSize) {
          const next = await source.next();
          if (next.done) {
            done = true;
            break;
          }
          firstPart.push(next.value);
          size += next.value.length;
        }
        if (done) {
          const whole = Buffer.concat(firstPart);
          const out = await client.send(new PutObjectCommand({ ...common, Body: whole }), {
            abortSignal: input.signal,
          });
          return { etag: out.ETag ?? "", size };
        }
        const counted = Readable.from(
          (async function* () {
            yield* firstPart;
            for (let next = await source.next(); !next.done; next = await source.next()) {
              size += next.value.length;
              yield next.value;
            }
          })(),
        );
        // Loaded on first use: a process that only reads (the CLI's ls, stats, downloads) never pays for it.
        const { Upload } = await import("@aws-sdk/lib-storage");
        const upload = new Upload({
          client,
          params: { ...common, Body: counted },
          partSize,
          queueSize: 4,
          leavePartsOnError: false,
        });
        const onAbort = () => void upload.abort();
        input.signal?.addEventListener("abort", onAbort, { once: true });
        if (input.signal?.aborted) onAbort();
        try {
          const out = await upload.done();
          // Ceph RGW answers CompleteMultipartUpload with an empty ETag; the object's HEAD has the real one.
          const etag = out.ETag && bareEtag(out.ETag) !== "" ? out.ETag : (await head(input.bucket, input.key)).etag;
          return { etag, size };
        } finally {
          input.signal?.removeEventListener("abort", onAbort);
        }
      } catch (error) {
        toGliderError(error, input.bucket, input.key);
      }
    },

    async deleteObject(bucket, key, signal) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
      } catch (error) {
        toGliderError(error, bucket, key);
      }
    },

    async copyObject(input: CopyObjectInput) {
      assertValidKey(input.destinationKey);
      try {
        const out = await client.send(
          new CopyObjectCommand({
            Bucket: input.bucket,
            Key: input.destinationKey,
            CopySource: `${input.bucket}/${encodeURIComponent(input.sourceKey).replace(/%2F/g, "/")}`,
            MetadataDirective: input.metadata ? "REPLACE" : "COPY",
            Metadata: input.metadata ? sendableMetadata(input.metadata) : undefined,
          }),
          { abortSignal: input.signal },
        );
        const copied = await head(input.bucket, input.destinationKey);
        return { etag: out.CopyObjectResult?.ETag ?? copied.etag, size: copied.size };
      } catch (error) {
        toGliderError(error, input.bucket, input.sourceKey);
      }
    },

    async presign(input: PresignInput) {
      const command =
        input.method === "GET"
          ? new GetObjectCommand({
              Bucket: input.bucket,
              Key: input.key,
              ResponseContentDisposition: input.responseContentDisposition,
            })
          : new PutObjectCommand({ Bucket: input.bucket, Key: input.key, ContentType: input.contentType });
      const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
      return getSignedUrl(client, command, { expiresIn: input.expiresInSeconds });
    },

    async ping(signal) {
      try {
        await client.send(new ListBucketsCommand({}), { abortSignal: signal });
      } catch (error) {
        toGliderError(error);
      }
    },

    async close() {
      client.destroy();
    },
  };
}
