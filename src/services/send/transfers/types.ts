import type { Readable } from "node:stream";
import type { TokenState } from "../tokens/types.js";

/**
 * pending → (uploaded →) completed → exhausted | expired | deleted. `uploaded` only exists on the byte path (bytes
 * received, not yet completed); expired is also what any live transfer reads as once its expiry has passed.
 */
export type TransferStatus = "pending" | "uploaded" | "completed" | "exhausted" | "expired" | "deleted";

/** How payload bytes travel: straight to the store through presigned URLs, or through Glider's byte routes. */
export type PayloadMode = "presigned" | "bytes";

/** A transfer as clients see it. Never includes the sender token or the delete secret's hash. */
export interface TransferView {
  id: string;
  status: TransferStatus;
  mode: PayloadMode;
  /** Declared size of the encrypted payload in bytes. */
  size: number;
  /** The sender's content-type hint (Glider only ever sees ciphertext). */
  contentType: string;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  completedAt: Date | null;
  /** 0 = unlimited. */
  maxDownloads: number;
  /** Finished downloads (presigned URLs count when issued). */
  downloads: number;
  /** Byte downloads under way (their slot is reserved). */
  downloadsInProgress: number;
  /** null when unlimited. */
  downloadsRemaining: number | null;
  /** Whether the sender can delete it with a delete secret. */
  deletable: boolean;
}

export interface CreateTransferInput {
  /** Exact size of the encrypted payload, 1..SEND_MAX_BYTES. */
  size: number;
  /** @default "application/octet-stream" */
  contentType?: string;
  /** 0 = unlimited, at most 1000. @default 1 */
  maxDownloads?: number;
  /** 1 s .. 30 days. @default 604800 (7 days) */
  expiresInSeconds?: number;
  /** SHA-256 (hex) of a secret the sender keeps; presenting the secret later deletes the transfer. */
  deleteAuthHash?: string;
}

/** Where the sender puts the bytes. */
export type UploadTarget =
  | { mode: "presigned"; method: "PUT"; url: string; headers: Record<string, string>; expiresAt: Date }
  | { mode: "bytes" };

export interface CreatedTransfer {
  transfer: TransferView;
  upload: UploadTarget;
}

export interface UploadResult {
  transfer: TransferView;
  receivedBytes: number;
}

export interface PresignedDownload {
  transfer: TransferView;
  url: string;
  /** At most 60 s after issue (and never after the transfer's expiry). */
  expiresAt: Date;
}

export interface ByteDownload {
  transfer: TransferView;
  contentLength: number;
  contentType: "application/octet-stream";
  /**
   * The payload. Its slot was reserved when this was opened; it is committed when the stream ends (the last byte
   * was read) and released when it is destroyed first (the client went away), so an aborted download does not count.
   */
  body: Readable;
}

export interface SendStats {
  generatedAt: Date;
  transfers: {
    total: number;
    byStatus: Record<TransferStatus, number>;
    /** Declared bytes of transfers whose payload is still stored. */
    bytesStored: number;
    downloads: number;
    downloadsInProgress: number;
  };
  tokens: { total: number; byState: Record<TokenState, number> };
}

export interface SweepReport {
  scanned: number;
  expired: number;
  payloadsDeleted: number;
}

/** The stored record, `transfers/<id>/record.json` in the system bucket. Times are epoch milliseconds. */
export interface TransferRecord {
  v: 1;
  id: string;
  tokenId: string;
  status: TransferStatus;
  size: number;
  contentType: string;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  completedAt: number | null;
  maxDownloads: number;
  downloads: number;
  downloadsInProgress: number;
  uploadedBytes: number | null;
  deleteAuthHash: string | null;
  /** Latest expiry of an issued presigned download URL: the payload stays until then. */
  presignedUntil: number | null;
  /** Earliest moment the sweeper may remove the payload of an exhausted transfer. */
  payloadDeleteAfter: number | null;
  payloadDeletedAt: number | null;
}
