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

interface TokenPayload {
  b: string;
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

/** RFC-DG-UI-0001 downloads: prepare issues an HMAC token bound to bucket, key and expiry; the token opens the stream. */
export function createDownloadsService(
  objects: ObjectsService,
  options: { secret: string; ttlMs?: number; now?: () => number; connectionId?: string },
) {
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
    const payload: TokenPayload = {
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

  function verify(token: string): TokenPayload {
    const payload = signer.verify<TokenPayload>(token);
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

export type DownloadsService = ReturnType<typeof createDownloadsService>;
