import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, SHARED_SECRETS } from "../../src/config.js";

const secrets = {
  DOWNLOAD_TOKEN_SECRET: "download-token-secret-0123",
  SESSION_SECRET: "session-secret-0123456789",
  SEND_IP_HASH_SECRET: "ip-hash-secret-0123456789",
};

describe("configuration for several instances (REDIS_URL)", () => {
  it("without REDIS_URL nothing is shared and no secret is required", () => {
    const config = loadConfig({});
    expect(config.redis).toBeUndefined();
    expect(config.downloadTokenSecret).toBeUndefined();
  });

  it.each(SHARED_SECRETS)("with REDIS_URL set and %s missing, start-up fails naming it", (variable) => {
    const env: Record<string, string> = { REDIS_URL: "redis://127.0.0.1:6379", ...secrets };
    delete env[variable];
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid configuration: ${variable}: required when REDIS_URL`));
  });

  it("with REDIS_URL and every shared secret, Redis is configured", () => {
    const config = loadConfig({ REDIS_URL: "redis://127.0.0.1:6379/2", ...secrets, SAVINGS_LEASE_MS: "5000" });
    expect(config.redis).toEqual({ url: "redis://127.0.0.1:6379/2", savingsLeaseMs: 5000 });
    expect(config.sessions.secret).toBe(secrets.SESSION_SECRET);
  });

  it("rejects a REDIS_URL that is not a redis URL, naming the variable", () => {
    expect(() => loadConfig({ REDIS_URL: "127.0.0.1:6379", ...secrets })).toThrow(
      /^invalid configuration: REDIS_URL: /,
    );
  });

  it("reads the download slot timeout", () => {
    expect(loadConfig({}).send.downloadSlotTimeoutMs).toBe(60_000);
    expect(loadConfig({ SEND_DOWNLOAD_SLOT_TIMEOUT_MS: "2000" }).send.downloadSlotTimeoutMs).toBe(2000);
    expect(() => loadConfig({ SEND_DOWNLOAD_SLOT_TIMEOUT_MS: "10" })).toThrow(/SEND_DOWNLOAD_SLOT_TIMEOUT_MS/);
  });
});
