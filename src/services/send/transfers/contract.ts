import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { ConditionalWriteProbe } from "../../storage/conditional-writes.js";
import type { AuditService } from "../audit/service.js";
import type { ActionRecord, AuditRecord, EventRecord, EventRecordInput, RequestRecordInput } from "../audit/types.js";
import type { InFlight } from "../in-flight.js";
import type { SystemStore } from "../system-store.js";
import type { TokensService } from "../tokens/service.js";
import type { SenderPrincipal } from "../tokens/types.js";
import type {
  ByteDownload,
  CreatedTransfer,
  CreateTransferInput,
  PayloadMode,
  PresignedDownload,
  SendStats,
  SweepReport,
  TransferView,
  UploadResult,
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
  /**
   * As `status`, without recording a `transfer.status_read` action: for reads that are not a status request of
   * their own (GraphQL's Transfer node, loaded by id as part of a larger query).
   */
  view(id: string): Promise<TransferView>;
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
  /** Send's write tracker, shared with audit; a private one by default. */
  inFlight?: InFlight;
}
