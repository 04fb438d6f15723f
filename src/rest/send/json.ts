import type {
  ActionRecord,
  AuditRecord,
  EventRecord,
  RequestRecord,
  SendStats,
  TokenView,
  TransferView,
  UploadTarget,
} from "../../services/send/index.js";
import { TRANSFER_ID_PATTERN } from "../../services/send/index.js";

// Snake_case JSON for Send (the UI contract) and the JSON schemas fastify validates and serialises with.

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

export function transferJson(view: TransferView) {
  return {
    transfer_id: view.id,
    status: view.status,
    mode: view.mode,
    size: view.size,
    content_type: view.contentType,
    created_at: iso(view.createdAt),
    updated_at: iso(view.updatedAt),
    expires_at: iso(view.expiresAt),
    completed_at: iso(view.completedAt),
    max_downloads: view.maxDownloads,
    downloads: view.downloads,
    downloads_in_progress: view.downloadsInProgress,
    downloads_remaining: view.downloadsRemaining,
    deletable: view.deletable,
  };
}

/** Where to send the bytes: the presigned URL, or this API's byte route (`base` is the plugin prefix). */
export function uploadJson(target: UploadTarget, transferId: string, base: string) {
  if (target.mode === "presigned") {
    return {
      mode: target.mode,
      method: target.method,
      url: target.url,
      headers: target.headers,
      expires_at: iso(target.expiresAt),
    };
  }
  return {
    mode: target.mode,
    method: "POST",
    url: `${base}/transfers/id/${transferId}/payload/upload-bytes`,
    headers: { "content-type": "application/octet-stream" },
    expires_at: null,
  };
}

export function eventJson(record: EventRecord) {
  return {
    event_id: record.id,
    transfer_id: record.transferId,
    at: iso(record.at),
    type: record.type,
    data: record.data,
  };
}

export function actionJson(record: ActionRecord) {
  return {
    action_id: record.id,
    transfer_id: record.transferId,
    at: iso(record.at),
    action: record.action,
    actor: record.actor,
    token_id: record.tokenId,
    details: record.details,
  };
}

export function requestJson(record: RequestRecord) {
  return {
    request_id: record.id,
    transfer_id: record.transferId,
    at: iso(record.at),
    method: record.method,
    route: record.route,
    status: record.status,
    latency_ms: record.latencyMs,
    ip: record.ip,
    ip_mode: record.ipMode,
    user_agent_hash: record.userAgentHash,
  };
}

export function auditJson(record: AuditRecord) {
  switch (record.kind) {
    case "request":
      return { kind: record.kind, ...requestJson(record) };
    case "action":
      return { kind: record.kind, ...actionJson(record) };
    case "event":
      return { kind: record.kind, ...eventJson(record) };
  }
}

export function tokenJson(view: TokenView) {
  return {
    token_id: view.id,
    label: view.label,
    state: view.state,
    created_at: iso(view.createdAt),
    expires_at: iso(view.expiresAt),
    max_transfers: view.maxTransfers,
    max_bytes: view.maxBytes,
    transfers_used: view.transfersUsed,
    bytes_used: view.bytesUsed,
    revoked_at: iso(view.revokedAt),
    last_used_at: iso(view.lastUsedAt),
  };
}

export function statsJson(stats: SendStats) {
  return {
    generated_at: iso(stats.generatedAt),
    transfers: {
      total: stats.transfers.total,
      by_status: stats.transfers.byStatus,
      bytes_stored: stats.transfers.bytesStored,
      downloads: stats.transfers.downloads,
      downloads_in_progress: stats.transfers.downloadsInProgress,
    },
    tokens: { total: stats.tokens.total, by_state: stats.tokens.byState },
  };
}

// ---- JSON schemas ---------------------------------------------------------------------------------------------

const str = { type: "string" } as const;
const int = { type: "integer" } as const;
const nullableStr = { type: ["string", "null"] } as const;
const nullableInt = { type: ["integer", "null"] } as const;
const anyObject = { type: "object", additionalProperties: true } as const;

export const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", pattern: TRANSFER_ID_PATTERN } },
} as const;

const transferSchema = {
  type: "object",
  properties: {
    transfer_id: str,
    status: { type: "string", enum: ["pending", "uploaded", "completed", "exhausted", "expired", "deleted"] },
    mode: { type: "string", enum: ["presigned", "bytes"] },
    size: int,
    content_type: str,
    created_at: str,
    updated_at: str,
    expires_at: str,
    completed_at: nullableStr,
    max_downloads: int,
    downloads: int,
    downloads_in_progress: int,
    downloads_remaining: nullableInt,
    deletable: { type: "boolean" },
  },
} as const;

const uploadSchema = {
  type: "object",
  properties: {
    mode: str,
    method: str,
    url: str,
    headers: { type: "object", additionalProperties: { type: "string" } },
    expires_at: nullableStr,
  },
} as const;

const eventSchema = {
  type: "object",
  properties: { event_id: str, transfer_id: str, at: str, type: str, data: anyObject },
} as const;

const actionSchema = {
  type: "object",
  properties: {
    action_id: str,
    transfer_id: str,
    at: str,
    action: str,
    actor: str,
    token_id: nullableStr,
    details: anyObject,
  },
} as const;

const tokenSchema = {
  type: "object",
  properties: {
    token_id: str,
    label: str,
    state: { type: "string", enum: ["active", "revoked", "expired", "exhausted"] },
    created_at: str,
    expires_at: nullableStr,
    max_transfers: int,
    max_bytes: int,
    transfers_used: int,
    bytes_used: int,
    revoked_at: nullableStr,
    last_used_at: nullableStr,
  },
} as const;

export const schemas = {
  createTransfer: {
    body: {
      type: "object",
      required: ["size"],
      additionalProperties: false,
      properties: {
        size: { type: "integer", minimum: 1 },
        content_type: { type: "string", minLength: 1, maxLength: 255 },
        max_downloads: { type: "integer", minimum: 0, maximum: 1000 },
        expires_in_seconds: { type: "integer", minimum: 1 },
        delete_auth_hash: { type: "string", pattern: "^[0-9a-fA-F]{64}$" },
      },
    },
    response: {
      201: { type: "object", properties: { transfer: transferSchema, upload: uploadSchema } },
    },
  },
  transferOnly: {
    params: idParams,
    response: { 200: { type: "object", properties: { transfer: transferSchema } } },
  },
  uploadBytes: {
    params: idParams,
    response: { 200: { type: "object", properties: { transfer: transferSchema, received_bytes: int } } },
  },
  downloadUrl: {
    params: idParams,
    response: {
      200: {
        type: "object",
        properties: {
          transfer: transferSchema,
          download: { type: "object", properties: { method: str, url: str, expires_at: str } },
        },
      },
    },
  },
  downloadBytes: { params: idParams },
  deleteTransfer: {
    params: idParams,
    body: {
      type: "object",
      required: ["delete_auth"],
      additionalProperties: false,
      properties: { delete_auth: { type: "string", minLength: 1, maxLength: 1024 } },
    },
    response: { 200: { type: "object", properties: { transfer: transferSchema } } },
  },
  addEvent: {
    params: idParams,
    body: {
      type: "object",
      required: ["type"],
      additionalProperties: false,
      properties: { type: { type: "string", minLength: 1, maxLength: 64 }, data: anyObject },
    },
    response: { 201: { type: "object", properties: { event: eventSchema } } },
  },
  listEvents: {
    params: idParams,
    response: { 200: { type: "object", properties: { events: { type: "array", items: eventSchema } } } },
  },
  listActions: {
    params: idParams,
    response: { 200: { type: "object", properties: { actions: { type: "array", items: actionSchema } } } },
  },
  createToken: {
    body: {
      type: "object",
      required: ["label"],
      additionalProperties: false,
      properties: {
        label: { type: "string", minLength: 1, maxLength: 200 },
        max_transfers: { type: "integer", minimum: 0 },
        max_bytes: { type: "integer", minimum: 0 },
        expires_in_seconds: { type: "integer", minimum: 1 },
      },
    },
    response: { 201: { type: "object", properties: { token: tokenSchema, secret: str } } },
  },
  listTokens: {
    response: { 200: { type: "object", properties: { tokens: { type: "array", items: tokenSchema } } } },
  },
  revokeToken: {
    params: idParams,
    response: { 200: { type: "object", properties: { token: tokenSchema } } },
  },
  auditAll: { params: idParams },
} as const;
