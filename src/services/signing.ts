import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * HMAC-signed opaque tokens (download tokens, listing cursors): base64url(JSON payload) + "." + base64url(MAC).
 * Each purpose derives its own key from the server secret, so a cursor can never pass as a download token.
 */
export function createSigner(secret: string | Buffer, purpose: string) {
  const key = createHmac("sha256", secret).update(`glider:${purpose}`).digest();
  const mac = (data: string) => createHmac("sha256", key).update(data).digest().subarray(0, 24).toString("base64url");
  return {
    sign(payload: unknown): string {
      const data = Buffer.from(JSON.stringify(payload)).toString("base64url");
      return `${data}.${mac(data)}`;
    },
    /** The payload, or undefined when the token is malformed or its MAC does not match. */
    verify<T>(token: string): T | undefined {
      const dot = token.indexOf(".");
      if (dot <= 0) return undefined;
      const data = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), "base64url");
      const expected = Buffer.from(mac(data), "base64url");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        return JSON.parse(Buffer.from(data, "base64url").toString("utf8")) as T;
      } catch {
        return undefined;
      }
    },
  };
}

export function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}
