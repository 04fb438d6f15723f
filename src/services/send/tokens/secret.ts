import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { newRandomId } from "../system-store.js";

const TOKEN_FORMAT = /^gst_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
export const TOKEN_ID_FORMAT = /^[A-Za-z0-9_-]{22}$/;

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Compares two strings in time independent of where they differ (both are hashed to equal length first). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/** A new token: 16 random bytes of id, 32 of secret; the bearer string carries both. */
export function generateToken(): { id: string; secret: string; bearer: string } {
  const id = newRandomId(16);
  const secret = randomBytes(32).toString("base64url");
  return { id, secret, bearer: `gst_${id}.${secret}` };
}

export function parseToken(bearer: string): { id: string; secret: string } | undefined {
  const match = TOKEN_FORMAT.exec(bearer);
  return match ? { id: match[1], secret: match[2] } : undefined;
}
