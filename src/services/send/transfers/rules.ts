import { GliderError } from "../../errors.js";
import type { SenderPrincipal, TokenState } from "../tokens/types.js";
import type { PayloadMode, TransferRecord, TransferStatus, TransferView } from "./types.js";

/**
 * The state rules of a transfer: what its status reads as at a moment, which states refuse which requests, and the
 * view clients get. Pure functions of the record and the clock.
 */
export const LIVE: readonly TransferStatus[] = ["pending", "uploaded", "completed"];
export const FINISHED: readonly TransferStatus[] = ["exhausted", "expired", "deleted"];
/** Every status in lifecycle order: stats' `byStatus` rows and GraphQL's TransferStatus enum. */
export const STATUSES: readonly TransferStatus[] = [
  "pending",
  "uploaded",
  "completed",
  "exhausted",
  "expired",
  "deleted",
];
export const TOKEN_STATES: readonly TokenState[] = ["active", "revoked", "expired", "exhausted"];
/** Glider only ever stores ciphertext. */
export const PAYLOAD_TYPE = "application/octet-stream";

export function effectiveStatus(record: TransferRecord, at: number): TransferStatus {
  return LIVE.includes(record.status) && at >= record.expiresAt ? "expired" : record.status;
}

export function refuseUnavailable(record: TransferRecord, at: number): void {
  switch (effectiveStatus(record, at)) {
    case "deleted":
      throw new GliderError("transfer_deleted", "this transfer has been deleted", { transfer_id: record.id });
    case "exhausted":
      throw new GliderError("transfer_exhausted", "this transfer has no downloads left", {
        transfer_id: record.id,
        max_downloads: record.maxDownloads,
        downloads: record.downloads,
      });
    case "expired":
      throw new GliderError("transfer_expired", "this transfer has expired", {
        transfer_id: record.id,
        expires_at: new Date(record.expiresAt).toISOString(),
      });
    default:
  }
}

/** The view clients get: never the sender token nor the delete secret's hash. */
export function viewOf(record: TransferRecord, mode: PayloadMode, at: number): TransferView {
  const limited = record.maxDownloads > 0;
  return {
    id: record.id,
    status: effectiveStatus(record, at),
    mode,
    size: record.size,
    contentType: record.contentType,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
    expiresAt: new Date(record.expiresAt),
    completedAt: record.completedAt === null ? null : new Date(record.completedAt),
    maxDownloads: record.maxDownloads,
    downloads: record.downloads,
    downloadsInProgress: record.downloadsInProgress,
    downloadsRemaining: limited
      ? Math.max(0, record.maxDownloads - record.downloads - record.downloadsInProgress)
      : null,
    deletable: record.deleteAuthHash !== null,
  };
}

export function assertOwner(record: TransferRecord, sender: SenderPrincipal): void {
  if (record.tokenId !== sender.tokenId) {
    throw new GliderError("forbidden", "this transfer belongs to another sender token", { transfer_id: record.id });
  }
}

/** Seconds from `at` until the transfer expires, capped; `transfer_expired` when none are left. */
export function ttlWithin(record: TransferRecord, cap: number, at: number): number {
  const seconds = Math.min(cap, Math.floor((record.expiresAt - at) / 1000));
  if (seconds < 1) {
    throw new GliderError("transfer_expired", "this transfer expires in less than a second", {
      transfer_id: record.id,
      expires_at: new Date(record.expiresAt).toISOString(),
    });
  }
  return seconds;
}
