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

// Snake_case JSON for Send (the UI contract); schemas.ts holds the schemas fastify serialises it through.

function iso(date: Date): string;
function iso(date: Date | null): string | null;
function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

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
    method: "POST" as const,
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
