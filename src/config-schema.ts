/*
 * The environment variables Glider reads and how each is parsed and checked; config.ts assembles the typed Config
 * from the parsed values.
 */
import { isIP } from "node:net";
import { z } from "zod";

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === "true" || v === "1" || v === "yes"));

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `expected an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

/** Like `bool`, but undefined when unset, so the default can depend on NODE_ENV. */
const optionalBool = () =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true" || v === "1" || v === "yes"));

/** A comma-separated list; empty entries dropped. */
const list = (each: z.ZodType<string>) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const items = (v ?? "")
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);
      for (const item of items) {
        const checked = each.safeParse(item);
        if (!checked.success) {
          ctx.addIssue({ code: "custom", message: `${checked.error.issues[0]?.message} (entry "${item}")` });
          return z.NEVER;
        }
      }
      return items;
    });

/** `scheme://host[:port]`, as browsers send it in `Origin`. */
const origin = z
  .string()
  .regex(/^https?:\/\/[^/\s?#]+$/i, { message: "expected origins such as https://ui.example.com (no path)" });

/** An IPv4/IPv6 address or CIDR range. */
const addressOrCidr = z.string().refine(
  (value) => {
    const [address, bits, ...rest] = value.split("/");
    const version = isIP(address ?? "");
    if (!version || rest.length) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d+$/.test(bits) && n >= 0 && n <= (version === 4 ? 32 : 128);
  },
  { message: "expected a hop count or a comma-separated list of addresses/CIDR ranges" },
);

/** TRUST_PROXY: off (default), a hop count, or the proxies' addresses/CIDR ranges. */
const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): number | string[] | false => {
    const value = (v ?? "").trim();
    if (value === "" || value === "false" || value === "0") return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops > 0 && hops <= 32) return hops;
      ctx.addIssue({ code: "custom", message: "expected a hop count from 1 to 32" });
      return z.NEVER;
    }
    const parsed = list(addressOrCidr).safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: parsed.error.issues[0]?.message ?? "invalid" });
      return z.NEVER;
    }
    return parsed.data;
  });

/**
 * Bucket holding Send's own records (transfers, tokens, audit) and payloads, in the configured backend. Bucket
 * listings must hide it (`config.send.systemBucket`).
 */
export const DEFAULT_SYSTEM_BUCKET = "glider-system";

/** Every environment variable Glider reads; `.env.example` documents each one. */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: int(4000, 0, 65535),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  STORAGE: z.enum(["fs", "memory", "s3"], { message: 'expected "fs", "memory" or "s3"' }).default("fs"),
  DATA_DIR: z.string().min(1).default("./data"),
  S3_ENDPOINT: z.string().url({ message: "expected a URL such as http://127.0.0.1:9000" }).optional(),
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_FORCE_PATH_STYLE: bool(false),
  GRAPHIQL: optionalBool(),
  SHUTDOWN_TIMEOUT_MS: int(8000, 100, 60_000),
  DG_MAX_RATIO: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return 0.5;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || n > 1) {
        ctx.addIssue({ code: "custom", message: "expected a number above 0 and at most 1" });
        return z.NEVER;
      }
      return n;
    }),
  REFERENCE_CACHE_MB: int(256, 1, 1_048_576),
  ENCODE_THREADS: int(0, 0, 256),
  HEAD_CONCURRENCY: int(16, 1, 256),
  DOWNLOAD_WINDOW_BUDGET_MB: int(64, 8, 1_048_576),
  SEED_DEMO: optionalBool(),
  SAVINGS_MAX_CONCURRENT_BUCKETS: int(2, 1, 64),
  SAVINGS_CACHE_TTL_MS: int(900_000, 1_000, 604_800_000),
  SAVINGS_HEAD_CONCURRENCY: int(16, 1, 256),
  SAVINGS_FIRST_SCAN_HEAD_CONCURRENCY: int(16, 1, 512),
  DOWNLOAD_TOKEN_SECRET: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  OBJECTS_RATE_LIMIT: int(10, 0, 100_000),
  GRAPHQL_MAX_DEPTH: int(12, 1, 100),
  GRAPHQL_MAX_ALIASES: int(15, 1, 1000),
  GRAPHQL_MAX_COST: int(50_000, 1, 10_000_000),
  GRAPHQL_MAX_TOKENS: int(2000, 1, 1_000_000),
  SEND_MAX_BYTES: int(100_000_000, 1, Number.MAX_SAFE_INTEGER),
  SEND_ADMIN_API_KEY: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  SEND_ANONYMISE_IPS: bool(false),
  SEND_IP_HASH_SECRET: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  SEND_SURFACE: z
    .enum(["public", "admin", "both"], { message: 'expected "public", "admin" or "both"' })
    .default("both"),
  SEND_SWEEP_INTERVAL_MS: int(60_000, 0, 86_400_000),
  SEND_PRESIGN_TTL_SECONDS: int(300, 1, 604_800),
  UPLOAD_MAX_BYTES: int(5 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
  STORAGE_TIMEOUT_MS: int(30_000, 100, 600_000),
  STORAGE_IDLE_TIMEOUT_MS: int(30_000, 100, 600_000),
  READY_FRESH_MS: int(10_000, 0, 3_600_000),
  READY_PROBE_TIMEOUT_MS: int(3_000, 100, 60_000),
  SEND_SYSTEM_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "expected an S3 bucket name (3-63 of a-z, 0-9, '.', '-')" })
    .default(DEFAULT_SYSTEM_BUCKET),
  GRAPHQL_INTROSPECTION: optionalBool(),
  GRAPHQL_JIT: bool(true),
  /** Alias of SEED_DEMO. */
  DEMO_SEED: optionalBool(),
  CORS_ORIGINS: list(origin),
  TRUST_PROXY: trustProxy,
  // Sessions and the Commander UI (issue #17)
  SESSION_SECRET: z.string().min(16, { message: "expected at least 16 characters" }).optional(),
  SESSION_IDLE_TTL_SECONDS: int(1800, 60, 604_800),
  SESSION_MAX: int(1000, 1, 1_000_000),
  REQUIRE_SESSION: bool(false),
  LOCAL_ACCESS_KEY_ID: z.string().min(1).optional(),
  LOCAL_SECRET_ACCESS_KEY: z.string().min(8, { message: "expected at least 8 characters" }).optional(),
  PUBLIC_BASE_URL: z.string().url({ message: "expected a URL such as https://glider.example.com" }).optional(),
  UI_DIR: z.string().min(1).optional(),
  // Several instances (issue #19)
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/./, { message: "expected a redis:// or rediss:// URL such as redis://127.0.0.1:6379" })
    .optional(),
  SEND_DOWNLOAD_SLOT_TIMEOUT_MS: int(60_000, 300, 86_400_000),
  SAVINGS_LEASE_MS: int(30_000, 300, 600_000),
});
