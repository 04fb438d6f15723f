import type { Logger } from "pino";
import type { SendConfig } from "../../config.js";
import type { LockService } from "../shared/locks.js";
import type { ConditionalWriteProbe } from "../storage/conditional-writes.js";
import type { ObjectStore } from "../storage/object-store.js";
import { createClientHasher } from "./audit/ip.js";
import { type AuditService, createAuditService } from "./audit/service.js";
import { createInFlight } from "./in-flight.js";
import { createSystemStore } from "./system-store.js";
import { createTokensService, type TokensService } from "./tokens/service.js";
import { createTransfersService, type TransfersService } from "./transfers/service.js";

export interface SendServices {
  audit: AuditService;
  tokens: TokensService;
  transfers: TransfersService;
}

/**
 * Builds Send's services over one store: records and payloads share the system bucket (hidden from bucket
 * listings). Nothing runs yet: the server calls `transfers.start()` (system bucket, sweeper) and
 * `transfers.close()` stops it; the bucket is also created on first use.
 */
export function createSendServices(
  config: SendConfig,
  store: ObjectStore,
  logger: Logger,
  now: () => number = Date.now,
  conditionalWrites?: ConditionalWriteProbe,
  /** Record locks: in-process by default; the Redis ones make quotas and state changes atomic across instances. */
  locks?: LockService,
): SendServices {
  const log = logger.child({ component: "send" });
  const system = createSystemStore(store, config.systemBucket, locks);
  const hasher = createClientHasher({ anonymise: config.anonymiseIps, secret: config.ipHashSecret });
  if (hasher.randomSecret && config.anonymiseIps) {
    log.warn("SEND_IP_HASH_SECRET is not set: using a random per-process key, so address hashes change on restart");
  }
  // One write tracker for audit and transfers: a read after a request waits for both kinds of its writes.
  const inFlight = createInFlight();
  const audit = createAuditService({ system, hasher, now, inFlight });
  const tokens = createTokensService({ system, adminApiKey: config.adminApiKey, now });
  const transfers = createTransfersService({
    inFlight,
    system,
    tokens,
    audit,
    logger: log,
    now,
    maxBytes: config.maxBytes,
    presignTtlSeconds: config.presignTtlSeconds,
    sweepIntervalMs: config.sweepIntervalMs,
    conditionalWrites,
    downloadSlotTimeoutMs: config.downloadSlotTimeoutMs,
  });
  return { audit, tokens, transfers };
}

// Send's interface for the front doors: model types, the id format and the request-audit helpers. Files under
// audit/, tokens/ and transfers/ are internal (`npm run lint` enforces it).
export type { ActionRecord, Actor, AuditRecord, EventRecord, RequestRecord } from "./audit/types.js";
export * from "./limits.js";
export { audited, outcomeStatus, type RequestOutcome, recordOutcome } from "./request-audit.js";
export type { CreatedToken, CreateTokenInput, SenderPrincipal, TokenState, TokenView } from "./tokens/types.js";
export { TRANSFER_ID_PATTERN } from "./transfers/ids.js";
export { STATUSES as TRANSFER_STATUSES } from "./transfers/rules.js";
export type {
  ByteDownload,
  CreatedTransfer,
  CreateTransferInput,
  PayloadMode,
  PresignedDownload,
  SendStats,
  SweepReport,
  TransferStatus,
  TransferView,
  UploadTarget,
} from "./transfers/types.js";
export type { AuditService, TokensService, TransfersService };
