import type { Readable } from "node:stream";

/** One object as a listing reports it. */
export interface ObjectSummary {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

/**
 * HEAD result: the summary plus content type and user metadata. Metadata names come back lower-cased with `_` read
 * as `-` on every backend (Ceph RGW rewrites them so, and one contract needs one spelling); S3 backends return a
 * non-ASCII value as the RFC 2047 encoded word it was stored as (`=?UTF-8?B?…?=`, as AWS S3 itself does).
 */
export interface ObjectHead extends ObjectSummary {
  contentType: string;
  metadata: Record<string, string>;
}

export interface BucketSummary {
  name: string;
  createdAt: Date;
}

export interface ListObjectsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  /** Opaque token from a previous page's `nextContinuationToken`. */
  continuationToken?: string;
  /** Start listing after this key (ListObjectsV2 StartAfter); ignored when a continuation token is given. */
  startAfter?: string;
  /** 1..1000, counting objects and common prefixes together. @default 1000 */
  maxKeys?: number;
  signal?: AbortSignal;
}

export interface ListObjectsPage {
  objects: ObjectSummary[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`; `end` omitted means to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface GetObjectInput {
  bucket: string;
  key: string;
  range?: ByteRange;
  signal?: AbortSignal;
}

export interface GetObjectResult {
  head: ObjectHead;
  /** Bytes delivered by `body` (the range's length when a range was asked for). */
  contentLength: number;
  body: Readable;
}

export type PutBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface PutObjectInput {
  bucket: string;
  key: string;
  body: PutBody;
  contentType?: string;
  /** User metadata; keys are stored lower-cased. */
  metadata?: Record<string, string>;
  /** Conditional create: fail with `precondition_failed` when the key already exists. */
  ifNoneMatch?: "*";
  /** Conditional overwrite: fail with `precondition_failed` unless the object exists with this ETag (quoted or not). */
  ifMatch?: string;
  signal?: AbortSignal;
}

export interface PutObjectResult {
  etag: string;
  size: number;
}

export interface CopyObjectInput {
  bucket: string;
  sourceKey: string;
  destinationKey: string;
  /** Replace the metadata; omitted keeps the source's. */
  metadata?: Record<string, string>;
  signal?: AbortSignal;
}

export interface PresignInput {
  method: "GET" | "PUT";
  bucket: string;
  key: string;
  expiresInSeconds: number;
  contentType?: string;
  responseContentDisposition?: string;
}

export interface StoreCapabilities {
  /** Can hand out presigned GET/PUT URLs. */
  presign: boolean;
  /** Honours `ifNoneMatch: "*"` atomically. */
  conditionalPut: boolean;
  /**
   * LIST calls worth running at once to read one large folder (parallel-listing.ts): a remote server's LISTs wait
   * on the network and on the server, a local store's only on this process. @default 1
   */
  listConcurrency?: number;
}

/**
 * The single storage contract. Every backend (filesystem, memory, S3) behaves like S3 ListObjectsV2/HEAD/GET/PUT:
 * keys sort by UTF-8 bytes, a missing bucket is `bucket_not_found`, a missing key `key_not_found`, deleting a
 * missing key succeeds.
 */
export interface ObjectStore {
  readonly kind: "fs" | "memory" | "s3";
  readonly capabilities: StoreCapabilities;
  listBuckets(signal?: AbortSignal): Promise<BucketSummary[]>;
  createBucket(bucket: string): Promise<void>;
  /** Removes an empty bucket: `bucket_not_empty` while it holds objects, `bucket_not_found` when missing. */
  deleteBucket(bucket: string, signal?: AbortSignal): Promise<void>;
  bucketExists(bucket: string, signal?: AbortSignal): Promise<boolean>;
  listObjects(input: ListObjectsInput): Promise<ListObjectsPage>;
  headObject(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead>;
  getObject(input: GetObjectInput): Promise<GetObjectResult>;
  putObject(input: PutObjectInput): Promise<PutObjectResult>;
  deleteObject(bucket: string, key: string, signal?: AbortSignal): Promise<void>;
  copyObject(input: CopyObjectInput): Promise<PutObjectResult>;
  /** Only when `capabilities.presign`; otherwise throws `unsupported`. */
  presign(input: PresignInput): Promise<string>;
  /** Cheap reachability probe for readiness checks. */
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
