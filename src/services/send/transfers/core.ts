import type { Logger } from "pino";
import { GliderError } from "../../errors.js";
import type { ObjectStore } from "../../storage/object-store.js";
import type { AuditService } from "../audit/service.js";
import type { ActionRecord, Actor } from "../audit/types.js";
import { createInFlight, type InFlight } from "../in-flight.js";
import type { SystemStore } from "../system-store.js";
import type { TokensService } from "../tokens/service.js";
import type { TransfersServiceOptions } from "./contract.js";
import { assertTransferId, transferKeys as keys } from "./ids.js";
import { ttlWithin, viewOf } from "./rules.js";
import type { PayloadMode, TransferRecord, TransferView } from "./types.js";

/**
 * What every part of the transfers service shares: the record store and its lock, the clock, the audit hook and the
 * in-process state (uploads streaming, writes in flight). The parts (uploads, downloads, reads, sweep) each take it.
 */
export interface TransferCore {
  system: SystemStore;
  store: ObjectStore;
  bucket: string;
  mode: PayloadMode;
  tokens: TokensService;
  audit: AuditService;
  logger: Logger;
  now: () => number;
  maxBytes: number;
  presignTtlSeconds: number;
  /** Send's write tracker: download bookkeeping and audit writes; reads of a transfer wait for its own. */
  inFlight: InFlight;
  /** Byte uploads streaming in this process; they run outside the record lock so reads never wait for them. */
  activeUploads: Set<string>;
  lockOf(id: string): string;
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** The record, or `transfer_not_found` (`invalid_request` for a malformed id). */
  load(id: string): Promise<TransferRecord>;
  /** Writes the record, stamping `updatedAt`. */
  save(record: TransferRecord): Promise<void>;
  /** Records an action in the transfer's trail (the sender token only for the sender's own actions). */
  act(record: TransferRecord, action: string, actor: Actor, details?: Record<string, unknown>): Promise<ActionRecord>;
  toView(record: TransferRecord, at?: number): TransferView;
  /** Seconds from now until the transfer expires, capped; `transfer_expired` when none are left. */
  ttlWithin(record: TransferRecord, cap: number): number;
}

export function createTransferCore(options: TransfersServiceOptions): TransferCore {
  const { system, tokens, audit, logger, now, maxBytes, presignTtlSeconds } = options;
  const store = system.store;
  const mode: PayloadMode = store.capabilities.presign ? "presigned" : "bytes";
  const lockOf = (id: string) => `transfer:${id}`;
  return {
    system,
    store,
    bucket: system.bucket,
    mode,
    tokens,
    audit,
    logger,
    now,
    maxBytes,
    presignTtlSeconds,
    inFlight: options.inFlight ?? createInFlight(),
    activeUploads: new Set(),
    lockOf,
    withLock: (id, fn) => system.withLock(lockOf(id), fn),
    async load(id) {
      assertTransferId(id);
      const record = await system.readJson<TransferRecord>(keys.record(id));
      if (!record) throw new GliderError("transfer_not_found", `transfer ${id} not found`, { transfer_id: id });
      return record;
    },
    async save(record) {
      record.updatedAt = now();
      await system.writeJson(keys.record(record.id), record);
    },
    act(record, action, actor, details = {}) {
      return audit.recordAction({
        transferId: record.id,
        action,
        actor,
        tokenId: actor === "sender" ? record.tokenId : undefined,
        details,
      });
    },
    toView: (record, at = now()) => viewOf(record, mode, at),
    ttlWithin: (record, cap) => ttlWithin(record, cap, now()),
  };
}
