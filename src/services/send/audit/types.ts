/** Who caused an action: the sender (bearer token), anyone holding the transfer id, an admin, or the sweeper. */
export type Actor = "sender" | "public" | "admin" | "system";

export type AuditKind = "request" | "action" | "event";

/** How client addresses are recorded: as given, or as a keyed hash (anonymised mode). */
export type IpMode = "raw" | "hmac";

interface AuditRecordBase {
  id: string;
  transferId: string;
  at: Date;
  /** Per-process sequence number; orders records written in the same millisecond. */
  seq: number;
}

/** One HTTP (or GraphQL) request that touched a transfer. */
export interface RequestRecord extends AuditRecordBase {
  kind: "request";
  method: string;
  /** The route pattern, e.g. `/api/transfers/id/:id/status`. */
  route: string;
  status: number;
  latencyMs: number;
  /** The raw address (raw mode), its HMAC-SHA256 hex (anonymised mode), or null when unknown. */
  ip: string | null;
  ipMode: IpMode;
  /** HMAC-SHA256 hex of the User-Agent header, or null when absent. */
  userAgentHash: string | null;
}

/** A change to a transfer: what happened and who did it. */
export interface ActionRecord extends AuditRecordBase {
  kind: "action";
  /** e.g. `transfer.created`, `payload.uploaded`, `download.completed`, `payload.swept`. */
  action: string;
  actor: Actor;
  /** The sender token behind the action, when there is one (admin views only). */
  tokenId: string | null;
  details: Record<string, unknown>;
}

/** A client-reported event (events/add). */
export interface EventRecord extends AuditRecordBase {
  kind: "event";
  type: string;
  data: Record<string, unknown>;
}

export type AuditRecord = RequestRecord | ActionRecord | EventRecord;

export interface RequestRecordInput {
  transferId: string;
  method: string;
  route: string;
  status: number;
  latencyMs: number;
  ip?: string;
  userAgent?: string;
}

export interface ActionRecordInput {
  transferId: string;
  action: string;
  actor: Actor;
  tokenId?: string;
  details?: Record<string, unknown>;
}

export interface EventRecordInput {
  transferId: string;
  /** 1-64 characters of letters, digits, `.`, `_`, `:`, `-`. */
  type: string;
  /** Any JSON object up to 4 KiB serialised. */
  data?: Record<string, unknown>;
}
