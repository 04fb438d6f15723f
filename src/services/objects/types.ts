import type { Readable } from "node:stream";
import type { LogicalObject } from "../deltaglider/catalogue.js";
import type { DeleteResult } from "../deltaglider/delete.js";
import type { UploadResult } from "../deltaglider/upload.js";
import type { ErrorCode, GliderError } from "../errors.js";
import type { LeasedChunk } from "../leased-chunks.js";
import type { BucketSummary, PutBody } from "../storage/object-store.js";
import type { ObjectQuery } from "./query.js";

/** One row of a folder listing, as both front doors show it. */
export interface ObjectRow {
  bucket: string;
  key: string;
  name: string;
  originalBytes: number;
  storedBytes: number;
  compressed: boolean;
  modified: Date;
  savingsPct: number;
  physicalKey: string;
  etag: string;
}

export interface ObjectPage {
  objects: ObjectRow[];
  /** Every child folder of the prefix, sorted, on every page. */
  commonPrefixes: string[];
  /** Present when more objects follow. */
  cursor?: string;
  /** The cursor after the page's row `index` (Relay edges); signed only when asked for. */
  cursorAt(index: number): string;
  /** Objects matching the filters across all pages. */
  total: number;
}

export interface ObjectDetails extends ObjectRow {
  sha256?: string;
  kind: LogicalObject["kind"];
  physicalKeys: string[];
  acceptRanges: false;
  /** The physical object's user metadata (DeltaGlider's `dg-*` keys among them) and content type. */
  metadata: Record<string, string>;
  contentType?: string;
}

/** One file of a multi-file upload, already received in full (a spool file), and its outcome. */
export interface UploadFile {
  /** Path relative to the upload's prefix, as the client named it. */
  relativePath: string;
  open(): NodeJS.ReadableStream & AsyncIterable<Uint8Array>;
  /** Set when the file could not be received (too many files, a name we refuse): reported, never stored. */
  rejected?: GliderError;
}

export type UploadFileOutcome =
  | { relativePath: string; key: string; ok: true; result: UploadResult }
  | { relativePath: string; key: string; ok: false; error: GliderError };

/** Most keys one bulk delete may name. */
export const BULK_DELETE_MAX = 1000;

/** A logical object's original bytes, integrity-checked as they stream. */
export interface ObjectStream {
  /** The logical key (its last segment names the file). */
  key: string;
  size: number;
  /** sha256 of the original: the logical ETag. */
  sha256: string | undefined;
  /** The bytes, zero-copy: release each chunk once written (see leased-chunks.ts). Use this or `body`, once. */
  chunks: AsyncIterable<LeasedChunk>;
  readonly body: Readable;
}

/** What a bulk delete did: the keys removed and, for each key that failed, why. */
export interface BulkDeleteResult {
  deleted: string[];
  errors: { key: string; code: ErrorCode; message: string }[];
}

/**
 * The browsing core shared by REST, GraphQL and the CLI: cached logical listings with sorting, filters and signed
 * cursors; object metadata; uploads and deletes that keep the caches (and savings figures) in step. Hidden buckets
 * (Send's system bucket) answer `bucket_not_found` everywhere.
 */
export interface ObjectsService {
  /**
   * One page of a folder: rows sorted and filtered as asked, its child folders and a signed cursor when more follow.
   * `client` (an address or token) is charged one `listing` against the rate limiter. Gives up with `timeout` after
   * `timeoutMs`; `invalid_cursor` when the cursor belongs to another query.
   */
  listObjects(query: ObjectQuery, client?: string, signal?: AbortSignal): Promise<ObjectPage>;
  /** Whether a visible bucket exists; positive answers are cached, concurrent asks share one HeadBucket. */
  bucketExists(bucket: string, signal?: AbortSignal): Promise<boolean>;
  /** A logical object's full metadata (resolving `.delta`): `key_not_found` when neither form exists. */
  metadata(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectDetails>;
  /** Full metadata of a listed row (sha256, kind): from the metadata cache when the listing already read it. */
  details(bucket: string, row: ObjectRow, signal?: AbortSignal): Promise<ObjectDetails>;
  /** Stores one object through DeltaGlider; `payload_too_large` past `uploadMaxBytes`, counted as it streams. */
  upload(bucket: string, key: string, body: PutBody, signal?: AbortSignal): Promise<UploadResult>;
  /** Stores each received file under `prefix/relativePath`; a failing file is reported and the others go on. */
  uploadFiles(
    bucket: string,
    prefix: string,
    files: readonly UploadFile[],
    signal?: AbortSignal,
  ): Promise<UploadFileOutcome[]>;
  /** Deletes up to {@link BULK_DELETE_MAX} keys, four at a time; a failing key is reported and the others go on. */
  bulkDelete(bucket: string, keys: readonly string[], signal?: AbortSignal): Promise<BulkDeleteResult>;
  /** Deletes one logical key the way DeltaGlider's `rm` does; `key_not_found` when neither form exists. */
  delete(bucket: string, key: string, signal?: AbortSignal): Promise<DeleteResult>;
  /**
   * A logical object's original bytes, integrity-checked as they stream. `likelyDelta`: the key was a delta when
   * last resolved (download tokens record it): one round trip, not two.
   */
  open(bucket: string, key: string, signal?: AbortSignal, hint?: { likelyDelta?: boolean }): Promise<ObjectStream>;
  /** Every visible bucket. */
  buckets(signal?: AbortSignal): Promise<BucketSummary[]>;
  /** Drops cached listings (and the key's metadata) and tells `onChange` (savings figures, other instances). */
  invalidate(bucket: string, key?: string): void;
  /** Drops this process's cached listings (and the key's metadata) of a bucket; other instances call it too. */
  forget(bucket: string, key?: string): void;
  /** Drops every cached listing and metadata entry (shared state was unreachable: changes may have been missed). */
  forgetAll(): void;
  /** Throws `bucket_not_found` for a hidden bucket. */
  assertVisible(bucket: string): void;
}
