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
}

/** RFC-DG-UI-0001 downloads: prepare issues an HMAC token bound to bucket, key and expiry; the token opens the stream. */
export function createDownloadsService(
  objects: ObjectsService,
  options: { secret: string; ttlMs?: number; now?: () => number },
) {
  const signer = createSigner(options.secret, "download");
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;

  async function prepare(bucket: string, key: string, signal?: AbortSignal): Promise<DownloadTicket> {
    const object = await objects.metadata(bucket, key, signal);
    const expiresAt = now() + ttlMs;
    return {
      token: signer.sign({
        b: bucket,
        k: object.key,
        e: expiresAt,
        ...(object.compressed ? { d: 1 as const } : {}),
      } satisfies TokenPayload),
      estimatedBytes: object.originalBytes,
      expiresAt: new Date(expiresAt),
      bucket,
      key: object.key,
    };
  }

  function verify(token: string): TokenPayload {
    const payload = signer.verify<TokenPayload>(token);
    if (!payload || typeof payload.b !== "string" || typeof payload.k !== "string" || typeof payload.e !== "number") {
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
