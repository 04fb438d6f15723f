import { Type } from "typebox";
import {
  CONTENT_TYPE_MAX_LENGTH,
  DEFAULT_EXPIRY_SECONDS,
  DEFAULT_MAX_DOWNLOADS,
  EVENT_DATA_MAX_BYTES,
  EVENT_TYPE_MAX_LENGTH,
  MAX_DOWNLOADS,
  MAX_EVENTS,
  MAX_EXPIRY_SECONDS,
  TOKEN_LABEL_MAX_LENGTH,
  TRANSFER_ID_PATTERN,
} from "../../services/send/index.js";
import { AnyObject, DateTime, Dict, Nullable, StringEnum } from "../schemas.js";

// Send's request and answer shapes (json.ts builds the answers). Limits come from services/send/limits.ts, so the
// schemas' bounds and the services' checks are one number each.

export const IdParams = Type.Object({ id: Type.String({ pattern: TRANSFER_ID_PATTERN }) });

export const Transfer = Type.Object(
  {
    transfer_id: Type.String({ pattern: TRANSFER_ID_PATTERN }),
    status: StringEnum(["pending", "uploaded", "completed", "exhausted", "expired", "deleted"]),
    mode: StringEnum(["presigned", "bytes"]),
    size: Type.Integer({ minimum: 1 }),
    content_type: Type.String(),
    created_at: DateTime,
    updated_at: DateTime,
    expires_at: DateTime,
    completed_at: Nullable(DateTime),
    max_downloads: Type.Integer({ minimum: 0, maximum: MAX_DOWNLOADS, description: "0 = unlimited" }),
    downloads: Type.Integer({ minimum: 0 }),
    downloads_in_progress: Type.Integer({ minimum: 0 }),
    downloads_remaining: Nullable(Type.Integer(), { description: "null when unlimited" }),
    deletable: Type.Boolean({ description: "created with a delete_auth_hash" }),
  },
  { additionalProperties: false },
);

export const TransferEnvelope = Type.Object({ transfer: Transfer }, { additionalProperties: false });

export const Upload = Type.Object(
  {
    mode: StringEnum(["presigned", "bytes"]),
    method: StringEnum(["PUT", "POST"]),
    url: Type.String(),
    headers: Dict(Type.String()),
    expires_at: Nullable(DateTime),
  },
  { additionalProperties: false },
);

export const Event = Type.Object(
  { event_id: Type.String(), transfer_id: Type.String(), at: DateTime, type: Type.String(), data: AnyObject },
  { additionalProperties: false },
);

export const Action = Type.Object(
  {
    action_id: Type.String(),
    transfer_id: Type.String(),
    at: DateTime,
    action: Type.String({ description: "transfer.created, payload.uploaded, download.completed, …" }),
    actor: StringEnum(["sender", "public", "admin", "system"]),
    token_id: Nullable(Type.String(), { description: "null in the public action list" }),
    details: AnyObject,
  },
  { additionalProperties: false },
);

/** One record of a transfer's audit trail: the fields all kinds share; each kind adds its own (json.ts). */
export const AuditRecord = Type.Object(
  {
    kind: StringEnum(["request", "action", "event"]),
    transfer_id: Type.String(),
    at: DateTime,
    ip: Type.Optional(Nullable(Type.String(), { description: "raw, or HMAC-SHA256 hex in anonymised mode" })),
    ip_mode: Type.Optional(StringEnum(["raw", "hmac"])),
  },
  { additionalProperties: true },
);

export const Token = Type.Object(
  {
    token_id: Type.String(),
    label: Type.String(),
    state: StringEnum(["active", "revoked", "expired", "exhausted"]),
    created_at: DateTime,
    expires_at: Nullable(DateTime),
    max_transfers: Type.Integer({ minimum: 0, description: "0 = unlimited" }),
    max_bytes: Type.Integer({ minimum: 0, description: "0 = unlimited" }),
    transfers_used: Type.Integer(),
    bytes_used: Type.Integer(),
    revoked_at: Nullable(DateTime),
    last_used_at: Nullable(DateTime),
  },
  { additionalProperties: false },
);

export const Stats = Type.Object(
  {
    generated_at: DateTime,
    transfers: Type.Object(
      {
        total: Type.Integer(),
        by_status: Dict(Type.Integer()),
        bytes_stored: Type.Integer(),
        downloads: Type.Integer(),
        downloads_in_progress: Type.Integer(),
      },
      { additionalProperties: false },
    ),
    tokens: Type.Object({ total: Type.Integer(), by_state: Dict(Type.Integer()) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export const CreateTransferBody = Type.Object(
  {
    size: Type.Integer({ minimum: 1, description: "exact ciphertext size, at most SEND_MAX_BYTES" }),
    content_type: Type.Optional(Type.String({ minLength: 1, maxLength: CONTENT_TYPE_MAX_LENGTH })),
    max_downloads: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_DOWNLOADS,
        description: `0 = unlimited (default ${DEFAULT_MAX_DOWNLOADS})`,
      }),
    ),
    // The upper bound is the service's to check (its message names it): stated here, not validated.
    expires_in_seconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: `at most ${MAX_EXPIRY_SECONDS} (default ${DEFAULT_EXPIRY_SECONDS})`,
      }),
    ),
    delete_auth_hash: Type.Optional(Type.String({ pattern: "^[0-9a-fA-F]{64}$" })),
  },
  { additionalProperties: false },
);

export const DeleteTransferBody = Type.Object(
  { delete_auth: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const AddEventBody = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: EVENT_TYPE_MAX_LENGTH,
      description: `A-Z a-z 0-9 . _ : - (at most ${MAX_EVENTS} events per transfer)`,
    }),
    data: Type.Optional({ ...AnyObject, description: `at most ${EVENT_DATA_MAX_BYTES} bytes of JSON` }),
  },
  { additionalProperties: false },
);

export const CreateTokenBody = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: TOKEN_LABEL_MAX_LENGTH }),
    max_transfers: Type.Optional(Type.Integer({ minimum: 0, description: "0 = unlimited (default)" })),
    max_bytes: Type.Optional(Type.Integer({ minimum: 0, description: "0 = unlimited (default)" })),
    expires_in_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
