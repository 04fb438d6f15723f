/** A sender token as the admin API shows it; the secret is never part of it. */
export interface TokenView {
  id: string;
  label: string;
  state: TokenState;
  createdAt: Date;
  /** null: never expires. */
  expiresAt: Date | null;
  /** Transfers this token may create; 0 = unlimited. */
  maxTransfers: number;
  /** Total declared bytes this token may send; 0 = unlimited. */
  maxBytes: number;
  transfersUsed: number;
  bytesUsed: number;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export type TokenState = "active" | "revoked" | "expired" | "exhausted";

export interface CreateTokenInput {
  /** 1-200 characters, for humans. */
  label: string;
  /** @default 0 (unlimited) */
  maxTransfers?: number;
  /** @default 0 (unlimited) */
  maxBytes?: number;
  /** Omitted: the token never expires. */
  expiresInSeconds?: number;
}

export interface CreatedToken {
  token: TokenView;
  /** The bearer secret (`gst_<id>.<secret>`), shown once; only its SHA-256 is stored. */
  secret: string;
}

/** The caller behind a valid `Authorization: Bearer` sender token. */
export interface SenderPrincipal {
  kind: "sender";
  tokenId: string;
  label: string;
}

/** The stored record, `tokens/<id>.json` in the system bucket. Times are epoch milliseconds. */
export interface TokenRecord {
  v: 1;
  id: string;
  label: string;
  /** SHA-256 hex of the secret part. */
  secretHash: string;
  createdAt: number;
  expiresAt: number | null;
  maxTransfers: number;
  maxBytes: number;
  transfersUsed: number;
  bytesUsed: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}
