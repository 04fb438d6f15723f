import { createHmac, randomBytes } from "node:crypto";
import type { IpMode } from "./types.js";

/** Turns client addresses and user agents into what may be stored or logged. */
export interface ClientHasher {
  readonly ipMode: IpMode;
  /** True when no secret was configured and a random per-process one is used (hashes change on restart). */
  readonly randomSecret: boolean;
  /** The address itself in raw mode; its HMAC-SHA256 (hex) in anonymised mode. */
  ip(ip: string | undefined): string | null;
  /** HMAC-SHA256 (hex) of the user agent in both modes: correlatable, not readable. */
  userAgent(userAgent: string | undefined): string | null;
}

export function createClientHasher(options: { anonymise: boolean; secret?: string }): ClientHasher {
  const secret = options.secret ?? randomBytes(32).toString("hex");
  const hmac = (value: string) => createHmac("sha256", secret).update(value).digest("hex");
  return {
    ipMode: options.anonymise ? "hmac" : "raw",
    randomSecret: options.secret === undefined,
    ip(ip) {
      if (!ip) return null;
      return options.anonymise ? hmac(`ip:${ip}`) : ip;
    },
    userAgent(userAgent) {
      return userAgent ? hmac(`ua:${userAgent}`) : null;
    },
  };
}
