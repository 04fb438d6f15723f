import { GliderError } from "../errors.js";
import type { ObjectStream, ObjectsService } from "../objects/service.js";
import { createSigner } from "../signing.js";

export interface DownloadTicket {
  token: string;
  estimatedBytes: number;
  expiresAt: Date;
  bucket: string;
  key: string;
}

export type DownloadStream = ObjectStream;

/** What a download token carries (short field names: the token travels in URLs). */
export interface DownloadTokenPayload {
  /** Bucket. */
  b: string;
  /** Logical key. */
  k: string;
  /** Expiry, epoch ms. */
  e: number;
  /** 1 when the key was a delta at prepare time: open then HEADs both physical keys at once (TTFB). */
  d?: 1;
  /** The connection the object lives in (absent: the server's store). */
  c?: string;
}

/** Shortest and longest lifetime of a shareable download link (the Commander's 60 s .. 7 days). */
export const LINK_TTL_MIN_SECONDS = 60;
export const LINK_TTL_MAX_SECONDS = 7 * 24 * 3600;
/** A shareable link's lifetime when the client names none (REST's `expires_in` default). */
export const LINK_TTL_DEFAULT_SECONDS = 3600;

/** RFC-DG-UI-0001 downloads: prepare issues an HMAC token bound to bucket, key and expiry; the token opens the stream. */
export interface DownloadsService {
  /**
   * A token for one object (resolved now: `key_not_found` and hidden buckets fail here). `lifetimeMs` (60 s .. 7 days,
   * `invalid_request` outside) overrides the default lifetime: the token is then a shareable link, opened without
   * any session.
   */
  prepare(bucket: string, key: string, signal?: AbortSignal, lifetimeMs?: number): Promise<DownloadTicket>;
  /**
   * The object a token names, from this service's objects. Everything that maps to a status (token, object,
   * reference, integrity of small files) resolves before this returns.
   */
  open(token: string, signal?: AbortSignal): Promise<DownloadStream>;
  /** The token's payload: `download_token_invalid` for a forged or malformed token, `download_token_expired` after its expiry. */
  verify(token: string): DownloadTokenPayload;
}

export interface DownloadsOptions {
  /** Signs tokens (with a per-purpose key). */
  secret: string;
  /** Lifetime of a token without `lifetimeMs`. @default 300000 (5 min) */
  ttlMs?: number;
  /** Clock (epoch ms) for expiry; tests move it instead of sleeping. @default Date.now */
  now?: () => number;
  /** The storage connection the tokens belong to; written into them unless it is the server's own. */
  connectionId?: string;
}

export function createDownloadsService(objects: ObjectsService, options: DownloadsOptions): DownloadsService {
  const signer = createSigner(options.secret, "download");
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;

  /**
   * A token for one object; `lifetimeMs` (60 s .. 7 days, `invalid_request` outside) overrides the default five
   * minutes: the token is then a shareable link, opened without any session.
   */
  async function prepare(
    bucket: string,
    key: string,
    signal?: AbortSignal,
    lifetimeMs?: number,
  ): Promise<DownloadTicket> {
    if (
      lifetimeMs !== undefined &&
      (!Number.isInteger(lifetimeMs) ||
        lifetimeMs < LINK_TTL_MIN_SECONDS * 1000 ||
        lifetimeMs > LINK_TTL_MAX_SECONDS * 1000)
    ) {
      throw new GliderError(
        "invalid_request",
        `expires_in must be from ${LINK_TTL_MIN_SECONDS} to ${LINK_TTL_MAX_SECONDS} seconds`,
        { parameter: "expires_in" },
      );
    }
    const object = await objects.metadata(bucket, key, signal);
    const expiresAt = now() + (lifetimeMs ?? ttlMs);
    const payload: DownloadTokenPayload = {
      b: bucket,
      k: object.key,
      e: expiresAt,
      ...(object.compressed ? { d: 1 as const } : {}),
    };
    if (options.connectionId && options.connectionId !== "server") payload.c = options.connectionId;
    return {
      token: signer.sign(payload),
      estimatedBytes: object.originalBytes,
      expiresAt: new Date(expiresAt),
      bucket,
      key: object.key,
    };
  }

  function verify(token: string): DownloadTokenPayload {
    const payload = signer.verify<DownloadTokenPayload>(token);
    if (
      !payload ||
      typeof payload.b !== "string" ||
      typeof payload.k !== "string" ||
      typeof payload.e !== "number" ||
      (payload.c !== undefined && typeof payload.c !== "string")
    ) {
      throw new GliderError("download_token_invalid", "download token is not valid");
    }
    if (payload.e <= now()) throw new GliderError("download_token_expired", "download token has expired", {});
    return payload;
  }

  /** Everything that maps to a status (token, object, reference, integrity of small files) resolves before this returns. */
  async function open(token: string, signal?: AbortSignal): Promise<DownloadStream> {
    const { b, k, d } = verify(token);
    return objects.open(b, k, signal, { likelyDelta: d === 1 });
  }

  return { prepare, open, verify };
}
