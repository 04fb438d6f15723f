import { GliderError } from "../../errors.js";
import { TOKEN_LABEL_MAX_LENGTH } from "../limits.js";
import type { SystemStore } from "../system-store.js";
import { constantTimeEqual, generateToken, parseToken, sha256Hex, TOKEN_ID_FORMAT } from "./secret.js";
import type { CreatedToken, CreateTokenInput, SenderPrincipal, TokenRecord, TokenState, TokenView } from "./types.js";

/**
 * Sender tokens (issued by admins, presented as `Authorization: Bearer gst_…`) and the admin key check. Each token
 * counts the transfers it created and their declared bytes; records live in the system bucket as `tokens/<id>.json`.
 */
export interface TokensService {
  create(input: CreateTokenInput): Promise<CreatedToken>;
  /** All tokens, newest first. */
  list(): Promise<TokenView[]>;
  get(id: string): Promise<TokenView>;
  /** Idempotent; `token_not_found` for an unknown id. */
  revoke(id: string): Promise<TokenView>;
  /**
   * The sender behind a bearer secret. `unauthorized` for a missing, malformed or unknown secret,
   * `token_revoked` / `token_expired` for one that no longer works. Quotas are checked by `consume`.
   */
  authenticate(bearer: string | undefined): Promise<SenderPrincipal>;
  /** Counts one new transfer of `bytes` against the token (`token_exhausted`, `token_quota_exceeded`, …). */
  consume(tokenId: string, bytes: number): Promise<void>;
  /** Gives back what `consume` took when the transfer could not be created after all. */
  refund(tokenId: string, bytes: number): Promise<void>;
  /** Throws `token_revoked` / `token_expired` unless the token still works (uploads to existing transfers). */
  assertActive(tokenId: string): Promise<void>;
  /**
   * Checks an admin key against SEND_ADMIN_API_KEY in constant time: `unauthorized` when missing or wrong,
   * `forbidden` when no key is configured (the admin API is off).
   */
  verifyAdminKey(presented: string | undefined): void;
}

export interface TokensServiceOptions {
  system: SystemStore;
  adminApiKey?: string;
  now: () => number;
}

function stateOf(record: TokenRecord, now: number): TokenState {
  if (record.revokedAt !== null) return "revoked";
  if (record.expiresAt !== null && now >= record.expiresAt) return "expired";
  if (record.maxTransfers > 0 && record.transfersUsed >= record.maxTransfers) return "exhausted";
  if (record.maxBytes > 0 && record.bytesUsed >= record.maxBytes) return "exhausted";
  return "active";
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

function toView(record: TokenRecord, now: number): TokenView {
  return {
    id: record.id,
    label: record.label,
    state: stateOf(record, now),
    createdAt: new Date(record.createdAt),
    expiresAt: date(record.expiresAt),
    maxTransfers: record.maxTransfers,
    maxBytes: record.maxBytes,
    transfersUsed: record.transfersUsed,
    bytesUsed: record.bytesUsed,
    revokedAt: date(record.revokedAt),
    lastUsedAt: date(record.lastUsedAt),
  };
}

function nonNegativeInt(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new GliderError("invalid_request", `${name} must be a non-negative integer`, { parameter: name });
  }
  return value;
}

function refuseUnusable(record: TokenRecord, now: number): void {
  const state = stateOf(record, now);
  if (state === "revoked") throw new GliderError("token_revoked", "this sender token has been revoked");
  if (state === "expired") throw new GliderError("token_expired", "this sender token has expired");
}

export function createTokensService({ system, adminApiKey, now }: TokensServiceOptions): TokensService {
  const keyOf = (id: string) => `tokens/${id}.json`;
  const lockOf = (id: string) => `token:${id}`;

  async function load(id: string): Promise<TokenRecord> {
    if (!TOKEN_ID_FORMAT.test(id)) {
      throw new GliderError("invalid_request", "malformed token id", { parameter: "id" });
    }
    const record = await system.readJson<TokenRecord>(keyOf(id));
    if (!record) throw new GliderError("token_not_found", `token ${id} not found`, { token_id: id });
    return record;
  }

  async function update(id: string, change: (record: TokenRecord) => void): Promise<TokenRecord> {
    return system.withLock(lockOf(id), async () => {
      const record = await load(id);
      change(record);
      await system.writeJson(keyOf(id), record);
      return record;
    });
  }

  return {
    async create(input) {
      const label = typeof input.label === "string" ? input.label.trim() : "";
      if (label.length === 0 || label.length > TOKEN_LABEL_MAX_LENGTH) {
        throw new GliderError("invalid_request", `label must be 1-${TOKEN_LABEL_MAX_LENGTH} characters`, {
          parameter: "label",
        });
      }
      const maxTransfers = nonNegativeInt(input.maxTransfers, "max_transfers");
      const maxBytes = nonNegativeInt(input.maxBytes, "max_bytes");
      let expiresAt: number | null = null;
      if (input.expiresInSeconds !== undefined) {
        const seconds = nonNegativeInt(input.expiresInSeconds, "expires_in_seconds");
        if (seconds === 0) {
          throw new GliderError("invalid_request", "expires_in_seconds must be positive", {
            parameter: "expires_in_seconds",
          });
        }
        expiresAt = now() + seconds * 1000;
      }
      const { id, secret, bearer } = generateToken();
      const record: TokenRecord = {
        v: 1,
        id,
        label,
        secretHash: sha256Hex(secret),
        createdAt: now(),
        expiresAt,
        maxTransfers,
        maxBytes,
        transfersUsed: 0,
        bytesUsed: 0,
        revokedAt: null,
        lastUsedAt: null,
      };
      await system.writeJson(keyOf(id), record, { ifNoneMatch: "*" });
      return { token: toView(record, now()), secret: bearer };
    },

    async list() {
      const keys = (await system.listKeys("tokens/")).filter((key) => key.endsWith(".json"));
      const records = await Promise.all(keys.map((key) => system.readJson<TokenRecord>(key)));
      const at = now();
      return records
        .filter((r): r is TokenRecord => r !== undefined)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
        .map((r) => toView(r, at));
    },

    async get(id) {
      return toView(await load(id), now());
    },

    async revoke(id) {
      const record = await update(id, (r) => {
        r.revokedAt ??= now();
      });
      return toView(record, now());
    },

    async authenticate(bearer) {
      if (!bearer) throw new GliderError("unauthorized", "a sender token is required (Authorization: Bearer …)");
      const parsed = parseToken(bearer);
      const record = parsed ? await system.readJson<TokenRecord>(keyOf(parsed.id)) : undefined;
      // One answer for malformed, unknown and wrong secrets: nothing tells a guesser which part was right.
      if (!parsed || !record || !constantTimeEqual(sha256Hex(parsed.secret), record.secretHash)) {
        throw new GliderError("unauthorized", "invalid sender token");
      }
      refuseUnusable(record, now());
      return { kind: "sender", tokenId: record.id, label: record.label };
    },

    async consume(tokenId, bytes) {
      await update(tokenId, (record) => {
        const at = now();
        refuseUnusable(record, at);
        if (stateOf(record, at) === "exhausted") {
          throw new GliderError("token_exhausted", "this sender token has used up its transfers", {
            max_transfers: record.maxTransfers,
            transfers_used: record.transfersUsed,
            max_bytes: record.maxBytes,
            bytes_used: record.bytesUsed,
          });
        }
        if (record.maxBytes > 0 && record.bytesUsed + bytes > record.maxBytes) {
          throw new GliderError("token_quota_exceeded", "this transfer would exceed the token's byte quota", {
            max_bytes: record.maxBytes,
            bytes_used: record.bytesUsed,
            requested_bytes: bytes,
          });
        }
        record.transfersUsed += 1;
        record.bytesUsed += bytes;
        record.lastUsedAt = at;
      });
    },

    async refund(tokenId, bytes) {
      await update(tokenId, (record) => {
        record.transfersUsed = Math.max(0, record.transfersUsed - 1);
        record.bytesUsed = Math.max(0, record.bytesUsed - bytes);
      });
    },

    async assertActive(tokenId) {
      const record = await load(tokenId);
      refuseUnusable(record, now());
    },

    verifyAdminKey(presented) {
      if (!adminApiKey) throw new GliderError("forbidden", "the admin API is disabled (SEND_ADMIN_API_KEY is not set)");
      if (!presented || !constantTimeEqual(presented, adminApiKey)) {
        throw new GliderError("unauthorized", "a valid admin key is required");
      }
    },
  };
}
