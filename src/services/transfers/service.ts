import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { AuditService } from "../audit/service.js";
import type { SystemStore } from "../audit/system-store.js";
import type {
  ActionRecord,
  Actor,
  AuditRecord,
  EventRecord,
  EventRecordInput,
  RequestRecordInput,
} from "../audit/types.js";
import { GliderError, isGliderError } from "../errors.js";
import { type ConditionalWriteProbe, declaredConditionalWrites } from "../storage/conditional-writes.js";
import { constantTimeEqual, sha256Hex } from "../tokens/secret.js";
import type { TokensService } from "../tokens/service.js";
import type { SenderPrincipal, TokenState } from "../tokens/types.js";
import { assertTransferId, isTransferId, transferKeys as keys, newTransferId } from "./ids.js";
import { limitBytes, meterDownload } from "./streams.js";
import { type Sweeper, startSweeper } from "./sweeper.js";
import type {
  ByteDownload,
  CreatedTransfer,
  CreateTransferInput,
  PayloadMode,
  PresignedDownload,
  SendStats,
  SweepReport,
  TransferRecord,
  TransferStatus,
  TransferView,
  UploadResult,
  UploadTarget,
} from "./types.js";

/**
 * Send transfers: client-encrypted payloads with download limits, expiry and a full audit trail. Every method maps
 * 1:1 onto a REST route and a GraphQL field; none knows HTTP.
 */
export interface TransfersService {
  /** `presigned` when the store can presign URLs, else `bytes`. The byte routes work in both modes. */
  readonly mode: PayloadMode;
  /** The system bucket; bucket listings must hide it. */
  readonly systemBucket: string;
  /** Creates a pending transfer, counting it against the sender token, and says where to put the bytes. */
  create(sender: SenderPrincipal, input: CreateTransferInput): Promise<CreatedTransfer>;
  /** Streams the payload into storage; the byte after SEND_MAX_BYTES fails with `payload_too_large`, nothing kept. */
  uploadBytes(sender: SenderPrincipal, id: string, body: Readable, signal?: AbortSignal): Promise<UploadResult>;
  /** Checks the stored payload against the declared size (`size_mismatch`) and makes the transfer downloadable. */
  completeUpload(sender: SenderPrincipal, id: string): Promise<TransferView>;
  /** The transfer, or `transfer_expired` / `transfer_exhausted` / `transfer_deleted` / `transfer_not_found`. */
  status(id: string): Promise<TransferView>;
  /** Counts one download now and returns a GET URL living at most 60 s (`unsupported` without presign). */
  createDownloadUrl(id: string): Promise<PresignedDownload>;
  /** Reserves one download and opens the payload stream; see `ByteDownload.body` for when it counts. */
  openDownload(id: string, signal?: AbortSignal): Promise<ByteDownload>;
  /** Deletes the transfer and its payload when `deleteAuth` hashes (SHA-256) to the hash given at creation. */
  delete(id: string, deleteAuth: string): Promise<TransferView>;
  addEvent(id: string, input: Omit<EventRecordInput, "transferId">): Promise<EventRecord>;
  listEvents(id: string): Promise<EventRecord[]>;
  /** Actions without the sender token id (public view). */
  listActions(id: string): Promise<ActionRecord[]>;
  /** Requests, actions and events merged in time order (admin view). */
  auditTrail(id: string): Promise<AuditRecord[]>;
  /** Every transfer, newest first (admin listings). */
  list(): Promise<TransferView[]>;
  stats(): Promise<SendStats>;
  /** Writes the request record of one front-door request, when `transferId` names an existing transfer. */
  recordRequest(input: RequestRecordInput): Promise<void>;
  /** Marks expired transfers and deletes the payloads of expired, exhausted and deleted ones. */
  sweep(): Promise<SweepReport>;
  /**
   * Server start-up (idempotent): creates the system bucket and starts the sweeper when `sweepIntervalMs` > 0.
   * Not done at construction, so the CLI, which builds the same services, never creates a bucket or sweeps.
   */
  start(): Promise<void>;
  /** Stops the sweeper and waits for download bookkeeping and audit writes in flight. */
  close(): Promise<void>;
}

export interface TransfersServiceOptions {
  system: SystemStore;
  tokens: TokensService;
  audit: AuditService;
  logger: Logger;
  /** Clock in epoch milliseconds (tests move it instead of sleeping). */
  now: () => number;
  maxBytes: number;
  presignTtlSeconds: number;
  /** Sweeper period once `start()` ran; 0 or undefined: no background sweeper (call `sweep()` yourself). */
  sweepIntervalMs?: number;
  /** Whether the store enforces If-None-Match (probed); default: the store's declared capability. */
  conditionalWrites?: ConditionalWriteProbe;
  /**
   * A byte download renews its slot claim every third of this; a claim not renewed for this long (its process died)
   * is released to the next download. Wall-clock time, not `now`: it measures process liveness. @default 60000
   */
  downloadSlotTimeoutMs?: number;
}

/** A byte download's claim on a slot: `claim` tells its holder apart, `heartbeatAt` (wall clock) proves it alive. */
interface SlotClaim {
  at: number;
  via: "bytes" | "presigned";
  claim?: string;
  heartbeatAt?: number;
}

const LIVE: readonly TransferStatus[] = ["pending", "uploaded", "completed"];
const FINISHED: readonly TransferStatus[] = ["exhausted", "expired", "deleted"];
const STATUSES: readonly TransferStatus[] = ["pending", "uploaded", "completed", "exhausted", "expired", "deleted"];
const TOKEN_STATES: readonly TokenState[] = ["active", "revoked", "expired", "exhausted"];
const DOWNLOAD_URL_MAX_SECONDS = 60;
const MAX_DOWNLOADS = 1000;
const DEFAULT_EXPIRY_SECONDS = 7 * 86_400;
const MAX_EXPIRY_SECONDS = 30 * 86_400;
const MAX_EVENTS = 1000;
const PAYLOAD_TYPE = "application/octet-stream";
const CONTENT_TYPE = /^[\x20-\x7e]{1,255}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const READ_CONCURRENCY = 16;

function effectiveStatus(record: TransferRecord, at: number): TransferStatus {
  return LIVE.includes(record.status) && at >= record.expiresAt ? "expired" : record.status;
}

function refuseUnavailable(record: TransferRecord, at: number): void {
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

function intIn(value: unknown, fallback: number, min: number, max: number, parameter: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new GliderError("invalid_request", `${parameter} must be an integer from ${min} to ${max}`, { parameter });
  }
  return value;
}

async function mapInBatches<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READ_CONCURRENCY) {
    out.push(...(await Promise.all(items.slice(i, i + READ_CONCURRENCY).map(fn))));
  }
  return out;
}

export function createTransfersService(options: TransfersServiceOptions): TransfersService {
  const { system, tokens, audit, logger, now, maxBytes, presignTtlSeconds } = options;
  const store = system.store;
  const bucket = system.bucket;
  const mode: PayloadMode = store.capabilities.presign ? "presigned" : "bytes";
  /** Byte uploads streaming in this process; they run outside the record lock so reads never wait for them. */
  const activeUploads = new Set<string>();
  /** Download bookkeeping (commit/release) still being written, per transfer: reads wait for it, close too. */
  const inFlight = new Map<string, Set<Promise<void>>>();
  const lockOf = (id: string) => `transfer:${id}`;
  const withLock = <T>(id: string, fn: () => Promise<T>) => system.withLock(lockOf(id), fn);
  const conditional = store.capabilities.conditionalPut ? ("*" as const) : undefined;
  const conditionalWrites = options.conditionalWrites ?? declaredConditionalWrites(store);

  /**
   * Download slots are only safe where a conditional create is atomic. On a store that ignores If-None-Match two
   * downloads could claim the same slot, so limited transfers are refused there rather than over-served.
   */
  async function assertAtomicSlots(maxDownloads: number, transferId?: string): Promise<void> {
    if (maxDownloads === 0 || (await conditionalWrites.support()).ifNoneMatch) return;
    throw new GliderError(
      "unsupported",
      "this object store ignores conditional writes (If-None-Match), so download limits cannot be enforced; " +
        "create the transfer with max_downloads: 0 (unlimited) or use a store that enforces them",
      { parameter: "max_downloads", max_downloads: maxDownloads, transfer_id: transferId, conditional_writes: false },
    );
  }
  const slotTimeoutMs = options.downloadSlotTimeoutMs ?? 60_000;
  let sweeper: Sweeper | undefined;
  let closed = false;

  function toView(record: TransferRecord, at = now()): TransferView {
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

  async function load(id: string): Promise<TransferRecord> {
    assertTransferId(id);
    const record = await system.readJson<TransferRecord>(keys.record(id));
    if (!record) throw new GliderError("transfer_not_found", `transfer ${id} not found`, { transfer_id: id });
    return record;
  }

  async function save(record: TransferRecord): Promise<void> {
    record.updatedAt = now();
    await system.writeJson(keys.record(record.id), record);
  }

  function act(
    record: TransferRecord,
    action: string,
    actor: Actor,
    details: Record<string, unknown> = {},
  ): Promise<ActionRecord> {
    return audit.recordAction({
      transferId: record.id,
      action,
      actor,
      tokenId: actor === "sender" ? record.tokenId : undefined,
      details,
    });
  }

  function assertOwner(record: TransferRecord, sender: SenderPrincipal): void {
    if (record.tokenId !== sender.tokenId) {
      throw new GliderError("forbidden", "this transfer belongs to another sender token", { transfer_id: record.id });
    }
  }

  /** Seconds from now until the transfer expires, capped; `transfer_expired` when none are left. */
  function ttlWithin(record: TransferRecord, cap: number): number {
    const seconds = Math.min(cap, Math.floor((record.expiresAt - now()) / 1000));
    if (seconds < 1) {
      throw new GliderError("transfer_expired", "this transfer expires in less than a second", {
        transfer_id: record.id,
        expires_at: new Date(record.expiresAt).toISOString(),
      });
    }
    return seconds;
  }

  async function uploadTarget(record: TransferRecord): Promise<UploadTarget> {
    if (mode === "bytes") return { mode: "bytes" };
    const ttl = ttlWithin(record, presignTtlSeconds);
    const url = await store.presign({
      method: "PUT",
      bucket,
      key: keys.payload(record.id),
      expiresInSeconds: ttl,
      contentType: PAYLOAD_TYPE,
    });
    return {
      mode: "presigned",
      method: "PUT",
      url,
      headers: { "content-type": PAYLOAD_TYPE },
      expiresAt: new Date(now() + ttl * 1000),
    };
  }

  // ---- download slots ----------------------------------------------------------------------------------------
  // A limited transfer has slots 1..maxDownloads. A download claims `slots/<n>` with a conditional create (atomic
  // in every backend, across processes too), commits it with `slots/<n>.done`, or releases it by deleting the
  // claim. The limit therefore holds even when two instances race; the record's counters are a cache of the slots.

  async function readSlots(id: string): Promise<{ claimed: Set<number>; done: Set<number> }> {
    const claimed = new Set<number>();
    const done = new Set<number>();
    const prefix = keys.slots(id);
    for (const key of await system.listKeys(prefix)) {
      const name = key.slice(prefix.length);
      const n = Number.parseInt(name, 10);
      if (!Number.isInteger(n)) continue;
      if (name.endsWith(".done")) done.add(n);
      else claimed.add(n);
    }
    return { claimed, done };
  }

  /**
   * A claimed slot that is not done and whose byte download stopped renewing it (its instance died) is deleted so it
   * can be claimed again; runs under the transfer's lock. Returns the slot freed, or 0.
   */
  async function releaseStaleSlot(id: string, claimed: Set<number>, done: Set<number>): Promise<number> {
    const at = Date.now();
    for (const n of claimed) {
      if (done.has(n)) continue;
      const claim = await system.readJson<SlotClaim>(keys.slot(id, n));
      if (claim?.via !== "bytes" || claim.heartbeatAt === undefined) continue;
      if (at - claim.heartbeatAt < slotTimeoutMs) continue;
      await system.delete(keys.slot(id, n));
      logger.warn(
        { transfer_id: id, slot: n, silent_ms: at - claim.heartbeatAt },
        "released a download slot whose holder stopped renewing it",
      );
      return n;
    }
    return 0;
  }

  async function claimSlot(record: TransferRecord, via: "bytes" | "presigned", claim?: string): Promise<number | null> {
    if (record.maxDownloads === 0) return null;
    await assertAtomicSlots(record.maxDownloads, record.id);
    for (let attempt = 0; attempt < 5; attempt++) {
      const { claimed, done } = await readSlots(record.id);
      if (done.size >= record.maxDownloads) refuseUnavailable({ ...record, status: "exhausted" }, now());
      let free = 0;
      for (let n = 1; n <= record.maxDownloads; n++) {
        if (!claimed.has(n)) {
          free = n;
          break;
        }
      }
      if (free === 0) free = await releaseStaleSlot(record.id, claimed, done);
      if (free === 0) {
        throw new GliderError("conflict", "every remaining download is in progress; try again later", {
          transfer_id: record.id,
          downloads_in_progress: claimed.size - done.size,
        });
      }
      try {
        const body: SlotClaim = { at: now(), via };
        if (claim) Object.assign(body, { claim, heartbeatAt: Date.now() });
        await system.writeJson(keys.slot(record.id, free), body, { ifNoneMatch: conditional });
        return free;
      } catch (error) {
        // Another instance took this slot between our listing and our write: look again.
        if (isGliderError(error) && error.code === "precondition_failed") continue;
        throw error;
      }
    }
    throw new GliderError("conflict", "too many concurrent downloads; try again", { transfer_id: record.id });
  }

  /** Recomputes the counters from the slots; a completed transfer whose slots are all done becomes exhausted. */
  async function refreshCounts(record: TransferRecord): Promise<boolean> {
    if (record.maxDownloads === 0) return false;
    const { claimed, done } = await readSlots(record.id);
    record.downloads = done.size;
    record.downloadsInProgress = claimed.size - done.size;
    if (record.status === "completed" && record.downloads >= record.maxDownloads) {
      record.status = "exhausted";
      return true;
    }
    return false;
  }

  /** Removes the payload now, unless a presigned URL still running needs it (then the sweeper does it later). */
  async function dropPayload(record: TransferRecord, reason: string, actor: Actor): Promise<void> {
    const at = now();
    if (record.presignedUntil !== null && record.presignedUntil > at && reason === "exhausted") {
      record.payloadDeleteAfter = record.presignedUntil;
      return;
    }
    record.payloadDeleteAfter = at;
    await system.delete(keys.payload(record.id));
    record.payloadDeletedAt = at;
    await act(record, "payload.deleted", actor, { reason });
  }

  /** Whether the slot still carries this download's claim (false once released as stale and claimed again). */
  async function holdsSlot(id: string, slot: number, claim: string): Promise<boolean> {
    return (await system.readJson<SlotClaim>(keys.slot(id, slot)))?.claim === claim;
  }

  /** Renews the claim (under the lock); false when the slot was released meanwhile and belongs to another download. */
  function renewSlot(id: string, slot: number, claim: string): Promise<boolean> {
    return withLock(id, async () => {
      const current = await system.readJson<SlotClaim>(keys.slot(id, slot));
      if (current?.claim !== claim) return false;
      await system.writeJson(keys.slot(id, slot), { ...current, heartbeatAt: Date.now() });
      return true;
    });
  }

  async function finishDownload(id: string, slot: number | null, completed: boolean, claim?: string): Promise<void> {
    await withLock(id, async () => {
      if (slot !== null) {
        // A slot released as stale (this instance stalled past the timeout) is another download's now: leave it.
        const held = claim === undefined || (await holdsSlot(id, slot, claim));
        if (!held) {
          logger.error({ transfer_id: id, slot }, "a download ended after its slot was released as stale; not counted");
        } else if (completed) await system.writeJson(keys.slotDone(id, slot), { at: now() });
        else await system.delete(keys.slot(id, slot));
      }
      const record = await load(id);
      let exhausted = false;
      if (slot === null) {
        record.downloadsInProgress = Math.max(0, record.downloadsInProgress - 1);
        if (completed) record.downloads += 1;
      } else {
        exhausted = await refreshCounts(record);
      }
      await act(record, completed ? "download.completed" : "download.cancelled", "public", { via: "bytes", slot });
      if (exhausted) await dropPayload(record, "exhausted", "system");
      await save(record);
    });
  }

  function track(id: string, promise: Promise<void>): Promise<void> {
    let set = inFlight.get(id);
    if (!set) {
      set = new Set();
      inFlight.set(id, set);
    }
    const entry = set;
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    entry.add(settled);
    void settled.then(() => {
      entry.delete(settled);
      if (entry.size === 0 && inFlight.get(id) === entry) inFlight.delete(id);
    });
    return promise;
  }

  /** Read-your-writes within a process: a status read right after a download ends sees it counted. */
  async function settledFor(id: string): Promise<void> {
    await Promise.all(inFlight.get(id) ?? []);
  }

  async function discardFailedUpload(id: string): Promise<void> {
    await withLock(id, async () => {
      await system.delete(keys.payload(id));
      const record = await load(id);
      if (record.status === "uploaded") {
        record.status = "pending";
        record.uploadedBytes = null;
        await save(record);
      }
    });
  }

  async function readRecords(): Promise<TransferRecord[]> {
    const ids = (await system.listFolders("transfers/"))
      .map((folder) => folder.slice("transfers/".length, -1))
      .filter(isTransferId);
    const records = await mapInBatches(ids, (id) => system.readJson<TransferRecord>(keys.record(id)));
    return records.filter((r): r is TransferRecord => r !== undefined);
  }

  async function sweepOne(id: string, report: SweepReport): Promise<void> {
    await withLock(id, async () => {
      const record = await system.readJson<TransferRecord>(keys.record(id));
      if (!record) return;
      const at = now();
      let changed = false;
      if (LIVE.includes(record.status) && at >= record.expiresAt) {
        record.status = "expired";
        changed = true;
        report.expired += 1;
        await act(record, "transfer.expired", "system", { expires_at: new Date(record.expiresAt).toISOString() });
      }
      if (
        FINISHED.includes(record.status) &&
        record.payloadDeletedAt === null &&
        (record.payloadDeleteAfter ?? 0) <= at
      ) {
        await system.delete(keys.payload(id));
        record.payloadDeletedAt = at;
        changed = true;
        report.payloadsDeleted += 1;
        await act(record, "payload.swept", "system", { reason: record.status });
      }
      if (changed) await save(record);
    });
  }

  const service: TransfersService = {
    mode,
    systemBucket: bucket,

    async create(sender, input) {
      const size = input.size;
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) {
        throw new GliderError("invalid_request", "size must be a positive integer (bytes)", { parameter: "size" });
      }
      if (size > maxBytes) {
        throw new GliderError("payload_too_large", `size exceeds the ${maxBytes}-byte limit`, {
          max_bytes: maxBytes,
          size,
        });
      }
      const contentType = input.contentType ?? PAYLOAD_TYPE;
      if (!CONTENT_TYPE.test(contentType)) {
        throw new GliderError("invalid_request", "content_type must be 1-255 printable ASCII characters", {
          parameter: "content_type",
        });
      }
      const maxDownloads = intIn(input.maxDownloads, 1, 0, MAX_DOWNLOADS, "max_downloads");
      await assertAtomicSlots(maxDownloads);
      const expiresIn = intIn(
        input.expiresInSeconds,
        DEFAULT_EXPIRY_SECONDS,
        1,
        MAX_EXPIRY_SECONDS,
        "expires_in_seconds",
      );
      const deleteAuthHash = input.deleteAuthHash?.toLowerCase() ?? null;
      if (deleteAuthHash !== null && !SHA256_HEX.test(deleteAuthHash)) {
        throw new GliderError("invalid_request", "delete_auth_hash must be 64 hex characters (SHA-256)", {
          parameter: "delete_auth_hash",
        });
      }
      await tokens.consume(sender.tokenId, size);
      const at = now();
      const record: TransferRecord = {
        v: 1,
        id: newTransferId(),
        tokenId: sender.tokenId,
        status: "pending",
        size,
        contentType,
        createdAt: at,
        updatedAt: at,
        expiresAt: at + expiresIn * 1000,
        completedAt: null,
        maxDownloads,
        downloads: 0,
        downloadsInProgress: 0,
        uploadedBytes: null,
        deleteAuthHash,
        presignedUntil: null,
        payloadDeleteAfter: null,
        payloadDeletedAt: null,
      };
      try {
        await system.writeJson(keys.record(record.id), record, { ifNoneMatch: conditional });
      } catch (error) {
        await tokens.refund(sender.tokenId, size).catch((e) => logger.error({ err: e }, "token refund failed"));
        throw error;
      }
      await act(record, "transfer.created", "sender", {
        size,
        content_type: contentType,
        max_downloads: maxDownloads,
        expires_at: new Date(record.expiresAt).toISOString(),
        mode,
      });
      return { transfer: toView(record, at), upload: await uploadTarget(record) };
    },

    async uploadBytes(sender, id, body, signal) {
      assertTransferId(id);
      await withLock(id, async () => {
        const record = await load(id);
        assertOwner(record, sender);
        await tokens.assertActive(sender.tokenId);
        refuseUnavailable(record, now());
        if (record.status !== "pending" && record.status !== "uploaded") {
          throw new GliderError("invalid_state", `cannot upload to a ${record.status} transfer`, {
            status: record.status,
          });
        }
        if (activeUploads.has(id)) {
          throw new GliderError("invalid_state", "an upload to this transfer is already in progress");
        }
        activeUploads.add(id);
      });
      try {
        const limited = limitBytes(body, maxBytes);
        let size: number;
        try {
          ({ size } = await store.putObject({
            bucket,
            key: keys.payload(id),
            body: limited.body,
            contentType: PAYLOAD_TYPE,
            // The client leaving cancels the PUT (and the store undoes it if it may have landed).
            signal,
          }));
        } catch (error) {
          await discardFailedUpload(id).catch((e) => logger.error({ err: e }, "could not discard a failed upload"));
          if (limited.exceeded()) {
            throw new GliderError("payload_too_large", `payload exceeds the ${maxBytes}-byte limit`, {
              max_bytes: maxBytes,
            });
          }
          throw error;
        }
        return await withLock(id, async () => {
          const record = await load(id);
          const at = now();
          if ((record.status !== "pending" && record.status !== "uploaded") || at >= record.expiresAt) {
            // Deleted or expired while the bytes were arriving: keep nothing.
            await system.delete(keys.payload(id));
            refuseUnavailable(record, at);
            throw new GliderError("invalid_state", `cannot upload to a ${record.status} transfer`);
          }
          record.status = "uploaded";
          record.uploadedBytes = size;
          await save(record);
          await act(record, "payload.uploaded", "sender", { bytes: size, via: "bytes" });
          return { transfer: toView(record), receivedBytes: size };
        });
      } finally {
        activeUploads.delete(id);
      }
    },

    async completeUpload(sender, id) {
      assertTransferId(id);
      return withLock(id, async () => {
        const record = await load(id);
        assertOwner(record, sender);
        await tokens.assertActive(sender.tokenId);
        refuseUnavailable(record, now());
        if (record.status === "completed") return toView(record);
        if (activeUploads.has(id)) throw new GliderError("invalid_state", "the upload is still in progress");
        let stored: number;
        try {
          stored = (await store.headObject(bucket, keys.payload(id))).size;
        } catch (error) {
          if (isGliderError(error) && error.code === "key_not_found") {
            throw new GliderError("invalid_state", "no payload has been uploaded yet", { status: record.status });
          }
          throw error;
        }
        if (stored > maxBytes || stored !== record.size) {
          await system.delete(keys.payload(id));
          record.status = "pending";
          record.uploadedBytes = null;
          await save(record);
          await act(record, "upload.rejected", "sender", { declared: record.size, actual: stored });
          if (stored > maxBytes) {
            throw new GliderError("payload_too_large", `payload exceeds the ${maxBytes}-byte limit`, {
              max_bytes: maxBytes,
              actual: stored,
            });
          }
          throw new GliderError("size_mismatch", `declared ${record.size} bytes but ${stored} were uploaded`, {
            declared: record.size,
            actual: stored,
          });
        }
        record.status = "completed";
        record.completedAt = now();
        record.uploadedBytes = stored;
        await save(record);
        await act(record, "upload.completed", "sender", { bytes: stored });
        return toView(record);
      });
    },

    async status(id) {
      assertTransferId(id);
      await settledFor(id);
      const record = await load(id);
      refuseUnavailable(record, now());
      await act(record, "transfer.status_read", "public");
      return toView(record);
    },

    async createDownloadUrl(id) {
      if (mode !== "presigned") {
        throw new GliderError("unsupported", "this storage backend cannot presign URLs; use payload/download-bytes");
      }
      assertTransferId(id);
      return withLock(id, async () => {
        const record = await load(id);
        refuseUnavailable(record, now());
        if (record.status !== "completed") {
          throw new GliderError("invalid_state", "the upload is not complete yet", { status: record.status });
        }
        const ttl = ttlWithin(record, Math.min(presignTtlSeconds, DOWNLOAD_URL_MAX_SECONDS));
        const slot = await claimSlot(record, "presigned");
        let url: string;
        try {
          url = await store.presign({
            method: "GET",
            bucket,
            key: keys.payload(id),
            expiresInSeconds: ttl,
            responseContentDisposition: "attachment",
          });
        } catch (error) {
          if (slot !== null) await system.delete(keys.slot(id, slot));
          throw error;
        }
        // A presigned URL cannot tell us when (or whether) it is used: it counts when issued.
        if (slot !== null) await system.writeJson(keys.slotDone(id, slot), { at: now(), via: "presigned" });
        const expiresAt = now() + ttl * 1000;
        record.presignedUntil = Math.max(record.presignedUntil ?? 0, expiresAt);
        let exhausted = false;
        if (slot === null) record.downloads += 1;
        else exhausted = await refreshCounts(record);
        await act(record, "download.url_issued", "public", {
          via: "presigned",
          slot,
          expires_at: new Date(expiresAt).toISOString(),
        });
        if (exhausted) await dropPayload(record, "exhausted", "system");
        await save(record);
        return { transfer: toView(record), url, expiresAt: new Date(expiresAt) };
      });
    },

    async openDownload(id, signal) {
      assertTransferId(id);
      const claim = randomUUID();
      const { record, slot } = await withLock(id, async () => {
        const record = await load(id);
        refuseUnavailable(record, now());
        if (record.status !== "completed") {
          throw new GliderError("invalid_state", "the upload is not complete yet", { status: record.status });
        }
        const slot = await claimSlot(record, "bytes", claim);
        if (slot === null) record.downloadsInProgress += 1;
        else await refreshCounts(record);
        await save(record);
        await act(record, "download.started", "public", { via: "bytes", slot });
        return { record, slot };
      });
      let object: Awaited<ReturnType<typeof store.getObject>>;
      try {
        object = await store.getObject({ bucket, key: keys.payload(id), signal });
      } catch (error) {
        await track(id, finishDownload(id, slot, false, claim));
        throw error;
      }
      // Renew the claim while the bytes flow; a claim lost to a stale-slot release ends this download.
      let heartbeat: NodeJS.Timeout | undefined;
      const stop = () => clearInterval(heartbeat);
      const body = meterDownload(object.body, {
        onEnd: () => {
          stop();
          return track(id, finishDownload(id, slot, true, claim));
        },
        onAbort: () => {
          stop();
          return track(id, finishDownload(id, slot, false, claim));
        },
        onHookError: (error) => logger.error({ err: error, transfer_id: id }, "download bookkeeping failed"),
      });
      if (slot !== null) {
        heartbeat = setInterval(
          () => {
            renewSlot(id, slot, claim).then(
              (held) => {
                if (!held) body.destroy(new GliderError("conflict", "this download's slot was released", { slot }));
              },
              (error) => logger.warn({ err: error, transfer_id: id, slot }, "could not renew a download slot"),
            );
          },
          Math.max(100, Math.floor(slotTimeoutMs / 3)),
        );
        heartbeat.unref();
      }
      return { transfer: toView(record), contentLength: object.contentLength, contentType: PAYLOAD_TYPE, body };
    },

    async delete(id, deleteAuth) {
      assertTransferId(id);
      if (typeof deleteAuth !== "string" || deleteAuth.length === 0) {
        throw new GliderError("invalid_request", "delete_auth is required", { parameter: "delete_auth" });
      }
      return withLock(id, async () => {
        const record = await load(id);
        if (record.status === "deleted") refuseUnavailable(record, now());
        if (record.deleteAuthHash === null) {
          throw new GliderError("forbidden", "this transfer was created without a delete secret");
        }
        if (!constantTimeEqual(sha256Hex(deleteAuth), record.deleteAuthHash)) {
          throw new GliderError("forbidden", "wrong delete secret");
        }
        record.status = "deleted";
        await act(record, "transfer.deleted", "public");
        if (record.payloadDeletedAt === null) await dropPayload(record, "deleted", "public");
        await save(record);
        return toView(record);
      });
    },

    async addEvent(id, input) {
      const record = await load(id);
      const status = effectiveStatus(record, now());
      if (status === "deleted" || status === "expired") refuseUnavailable(record, now());
      return system.withLock(`events:${id}`, async () => {
        if ((await audit.count(id, "event")) >= MAX_EVENTS) {
          throw new GliderError("conflict", `a transfer holds at most ${MAX_EVENTS} events`, {
            max_events: MAX_EVENTS,
          });
        }
        return audit.recordEvent({ transferId: id, type: input.type, data: input.data });
      });
    },

    async listEvents(id) {
      const record = await load(id);
      const events = (await audit.list(id, "event")) as EventRecord[];
      await act(record, "events.listed", "public");
      return events;
    },

    async listActions(id) {
      assertTransferId(id);
      await settledFor(id);
      const record = await load(id);
      const actions = (await audit.list(id, "action")) as ActionRecord[];
      await act(record, "actions.listed", "public");
      return actions.map((action) => ({ ...action, tokenId: null }));
    },

    async auditTrail(id) {
      assertTransferId(id);
      await settledFor(id);
      const record = await load(id);
      const trail = await audit.list(id);
      await act(record, "audit.read", "admin");
      return trail;
    },

    async list() {
      const at = now();
      return (await readRecords())
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
        .map((r) => toView(r, at));
    },

    async stats() {
      await Promise.all([...inFlight.values()].flatMap((set) => [...set]));
      const at = now();
      const records = await readRecords();
      const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<TransferStatus, number>;
      let bytesStored = 0;
      let downloads = 0;
      let downloadsInProgress = 0;
      for (const record of records) {
        byStatus[effectiveStatus(record, at)] += 1;
        downloads += record.downloads;
        downloadsInProgress += record.downloadsInProgress;
        if (record.payloadDeletedAt === null && record.uploadedBytes !== null) bytesStored += record.uploadedBytes;
      }
      const allTokens = await tokens.list();
      const byState = Object.fromEntries(TOKEN_STATES.map((s) => [s, 0])) as Record<TokenState, number>;
      for (const token of allTokens) byState[token.state] += 1;
      return {
        generatedAt: new Date(at),
        transfers: { total: records.length, byStatus, bytesStored, downloads, downloadsInProgress },
        tokens: { total: allTokens.length, byState },
      };
    },

    async recordRequest(input) {
      if (!isTransferId(input.transferId)) return;
      // Unknown ids get no folder: guessing ids must not grow the system bucket.
      if (!(await system.exists(keys.record(input.transferId)))) return;
      await audit.recordRequest(input);
    },

    async sweep() {
      const report: SweepReport = { scanned: 0, expired: 0, payloadsDeleted: 0 };
      const ids = (await system.listFolders("transfers/"))
        .map((folder) => folder.slice("transfers/".length, -1))
        .filter(isTransferId);
      for (const id of ids) {
        // Busy transfers are taken next time; a sweep never waits behind a download or an upload.
        if (system.isLocked(lockOf(id)) || activeUploads.has(id)) continue;
        report.scanned += 1;
        try {
          await sweepOne(id, report);
        } catch (error) {
          logger.error({ err: error, transfer_id: id }, "sweeping a transfer failed");
        }
      }
      return report;
    },

    async start() {
      if (closed) return;
      if (!sweeper && options.sweepIntervalMs) {
        sweeper = startSweeper(() => service.sweep(), options.sweepIntervalMs, logger);
      }
      // Storage being down at start-up is /ready's business, not a reason to refuse to start.
      await system.ensureBucket().catch((error) => {
        logger.warn({ err: error }, "system bucket not created yet; retrying on first use");
      });
    },

    async close() {
      closed = true;
      await sweeper?.stop();
      await Promise.all([...inFlight.values()].flatMap((set) => [...set]));
      await audit.flush();
    },
  };

  return service;
}
