import { TRANSFER_ID_PATTERN } from "../../services/send/index.js";

// The JSON schemas fastify validates Send's requests with and serialises its snake_case answers (json.ts) through.

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
