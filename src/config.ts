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
const envSchema = z.object({
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

/** The documented development key pair for signing in to the embedded store; never used in production. */
export const DEV_LOCAL_CREDENTIALS = { accessKeyId: "glider", secretAccessKey: "glider-dev-secret" } as const;

/**
 * Keys every instance must share when several run on one Redis: with REDIS_URL set, start-up fails naming the first
 * one that is missing (a random per-process key would make tokens, cursors, sessions or address hashes differ).
 */
export const SHARED_SECRETS = ["DOWNLOAD_TOKEN_SECRET", "SESSION_SECRET", "SEND_IP_HASH_SECRET"] as const;

export interface Config {
  env: "development" | "production" | "test";
  host: string;
  port: number;
  logLevel: string;
  storage:
    | { kind: "fs"; dataDir: string }
    | { kind: "memory" }
    | { kind: "s3"; endpoint?: string; region: string; forcePathStyle: boolean };
  graphiql: boolean;
  shutdownTimeoutMs: number;
  deltaglider: DeltaGliderConfig;
  savings: SavingsConfig;
  /** Signs download tokens and listing cursors; required for more than one instance (random otherwise). */
  downloadTokenSecret?: string;
  /** Object listings per second per client IP (REST and GraphQL); 0 disables the limit. @default 10 */
  objectsRateLimit: number;
  /** Per-operation limits against abusive GraphQL documents. */
  graphql: { maxDepth: number; maxAliases: number; maxCost: number; maxTokens: number; jit: boolean };
  send: SendConfig;
  /** Deadlines, size limits and readiness for storage faults (see README "Limits and deadlines"). */
  limits: LimitsConfig;
  http: HttpConfig;
  sessions: SessionsConfig;
  /** Base of absolute links Glider hands out (download links) behind a proxy; the request's host otherwise. */
  publicBaseUrl?: string;
  /** A built single-page UI (the Commander's `dist/`) served at `/`. */
  uiDir?: string;
  /** Shared state for several instances; absent: everything stays in this process (one instance). */
  redis?: RedisConfig;
}

/** Deadlines and size limits that keep a slow or broken store from hanging requests or filling disks. */
export interface LimitsConfig {
  /** Largest DeltaGlider upload (`POST /api/upload`), enforced while streaming: 413, nothing kept. @default 5 GiB */
  uploadMaxBytes: number;
  /** Deadline of every storage call up to its answer (a GET's headers, a PUT's reply once the body is sent). @default 30000 */
  storageTimeoutMs: number;
  /** A body flowing to or from storage that makes no progress for this long is aborted. @default 30000 */
  storageIdleTimeoutMs: number;
  /** `/ready` counts a successful storage call this recent as proof; it probes only when none is. @default 10000 */
  readyFreshMs: number;
  /** Deadline of `/ready`'s own storage probe. @default 3000 */
  readyProbeTimeoutMs: number;
}

/** What browsers and proxies see of both front doors (REST and GraphQL). */
export interface HttpConfig {
  /** Origins (scheme://host:port) allowed cross-origin, with credentials. Empty: same-origin only. @default [] */
  corsOrigins: string[];
  /** Schema introspection on GraphQL. @default true, false when NODE_ENV=production */
  introspection: boolean;
  /**
   * fastify `trustProxy`: false ignores X-Forwarded-For; a hop count or the proxies' addresses/CIDR ranges take the
   * client address from it (rate limit, audit, access log). @default false
   */
  trustProxy: false | number | string[];
}

/** Sessions of the Commander UI (`/api/auth/session`). */
export interface SessionsConfig {
  /** Encrypts credentials in the session store (AES-GCM); random per process when unset. */
  secret?: string;
  /** A session unused this long expires. @default 1800 */
  idleSeconds: number;
  /** Most sessions at once; beyond it the least recently used one ends. @default 1000 */
  maxSessions: number;
  /** Refuse API calls without a session (401 `session_required`). @default false */
  requireSession: boolean;
  /**
   * Key pair that signs in to the embedded (fs/memory) store. Defaults to DEV_LOCAL_CREDENTIALS outside production;
   * in production sign-in to the embedded store is refused unless both variables are set.
   */
  local?: { accessKeyId: string; secretAccessKey: string };
}

/** Several instances on one S3 and one Redis (REDIS_URL). */
export interface RedisConfig {
  url: string;
  /** A savings job's lease: an instance that stops renewing it for this long loses the job to another. @default 30000 */
  savingsLeaseMs: number;
}

/** DeltaGlider browsing and writing. */
export interface DeltaGliderConfig {
  /** Uploads whose delta is above this share of the file are stored direct (documented DG_MAX_RATIO). @default 0.5 */
  maxRatio: number;
  /** Soft cap on references held in memory; larger ones are spilled to temp files. @default 256 MiB */
  referenceCacheBytes: number;
  /** Worker threads encoding deltas; 0 means one fewer than the cores (at least 1). @default 0 */
  encodeThreads: number;
  /** HEAD requests in flight when listings need metadata. @default 16 */
  headConcurrency: number;
  /** Decoded delta windows (8 MiB each) all downloads may hold at once; more downloads wait their turn. @default 64 MiB */
  windowBudgetBytes: number;
  /** Seed a `demo` bucket on start when it does not exist (embedded filesystem store only). @default true */
  seedDemo: boolean;
}

/** On-demand savings jobs (RFC-DG-UI-0002 "On-Demand Savings"). */
export interface SavingsConfig {
  /** Buckets scanned at once; further jobs wait their turn. @default 2 */
  maxConcurrentBuckets: number;
  /** How long computed figures stay cached (SAVINGS_CACHE). @default 900000 (15 min) */
  cacheTtlMs: number;
  /** HEAD requests in flight per scanned bucket (one per delta). @default 16 */
  headConcurrency: number;
  /**
   * HEADs in flight when a bucket has no savings index yet (every delta needs one). @default 16: on s3rver more were
   * slower (bench/RESULTS.md); raise it for S3, which serves many HEADs in parallel.
   */
  firstScanHeadConcurrency: number;
}

/** Send (encrypted transfers) settings. */
export interface SendConfig {
  /** Largest payload in bytes, enforced while streaming. @default 100000000 */
  maxBytes: number;
  /** Key for /api/admin (header `x-admin-key` or cookie `glider_admin_key`); unset disables the admin API. */
  adminApiKey?: string;
  /** Store and log only a keyed hash (HMAC-SHA256) of client addresses. @default false */
  anonymiseIps: boolean;
  /** HMAC key for address and user-agent hashes; random per process when unset. */
  ipHashSecret?: string;
  /** Which routes this process serves. @default "both" */
  surface: "public" | "admin" | "both";
  /** How often expired, exhausted and deleted payloads are removed; 0 turns the sweeper off. @default 60000 */
  sweepIntervalMs: number;
  /** Lifetime of presigned upload URLs; download URLs live at most 60 s. @default 300 */
  presignTtlSeconds: number;
  /** System bucket for Send records and payloads. @default "glider-system" */
  systemBucket: string;
  /** A download slot whose holder stopped renewing it (the process died) is released after this long. @default 60000 */
  downloadSlotTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; the first problem becomes one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue.path[0] ?? "environment");
    const value = env[variable];
    throw new ConfigError(
      `invalid configuration: ${variable}: ${issue.message}${value !== undefined ? ` (got "${value}")` : ""}`,
    );
  }
  const e = parsed.data;
  if (e.REDIS_URL) {
    for (const variable of SHARED_SECRETS) {
      if (!e[variable]) {
        throw new ConfigError(
          `invalid configuration: ${variable}: required when REDIS_URL is set (every instance must use the same value)`,
        );
      }
    }
  }
  const storage: Config["storage"] =
    e.STORAGE === "fs"
      ? { kind: "fs", dataDir: e.DATA_DIR }
      : e.STORAGE === "memory"
        ? { kind: "memory" }
        : { kind: "s3", endpoint: e.S3_ENDPOINT, region: e.S3_REGION, forcePathStyle: e.S3_FORCE_PATH_STYLE };
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    storage,
    // Production: GraphiQL off (not even GRAPHIQL=true turns it on), introspection and the demo seed off unless asked.
    graphiql: (e.GRAPHIQL ?? true) && e.NODE_ENV !== "production",
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    downloadTokenSecret: e.DOWNLOAD_TOKEN_SECRET,
    objectsRateLimit: e.OBJECTS_RATE_LIMIT,
    graphql: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxCost: e.GRAPHQL_MAX_COST,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      jit: e.GRAPHQL_JIT,
    },
    deltaglider: {
      maxRatio: e.DG_MAX_RATIO,
      referenceCacheBytes: e.REFERENCE_CACHE_MB * 1024 * 1024,
      encodeThreads: e.ENCODE_THREADS,
      headConcurrency: e.HEAD_CONCURRENCY,
      windowBudgetBytes: e.DOWNLOAD_WINDOW_BUDGET_MB * 1024 * 1024,
      seedDemo: e.SEED_DEMO ?? e.DEMO_SEED ?? e.NODE_ENV !== "production",
    },
    savings: {
      maxConcurrentBuckets: e.SAVINGS_MAX_CONCURRENT_BUCKETS,
      cacheTtlMs: e.SAVINGS_CACHE_TTL_MS,
      headConcurrency: e.SAVINGS_HEAD_CONCURRENCY,
      firstScanHeadConcurrency: e.SAVINGS_FIRST_SCAN_HEAD_CONCURRENCY,
    },
    send: {
      maxBytes: e.SEND_MAX_BYTES,
      adminApiKey: e.SEND_ADMIN_API_KEY,
      anonymiseIps: e.SEND_ANONYMISE_IPS,
      ipHashSecret: e.SEND_IP_HASH_SECRET,
      surface: e.SEND_SURFACE,
      sweepIntervalMs: e.SEND_SWEEP_INTERVAL_MS,
      presignTtlSeconds: e.SEND_PRESIGN_TTL_SECONDS,
      systemBucket: e.SEND_SYSTEM_BUCKET,
      downloadSlotTimeoutMs: e.SEND_DOWNLOAD_SLOT_TIMEOUT_MS,
    },
    limits: {
      uploadMaxBytes: e.UPLOAD_MAX_BYTES,
      storageTimeoutMs: e.STORAGE_TIMEOUT_MS,
      storageIdleTimeoutMs: e.STORAGE_IDLE_TIMEOUT_MS,
      readyFreshMs: e.READY_FRESH_MS,
      readyProbeTimeoutMs: e.READY_PROBE_TIMEOUT_MS,
    },
    http: {
      corsOrigins: e.CORS_ORIGINS.map((o) => new URL(o).origin),
      introspection: e.GRAPHQL_INTROSPECTION ?? e.NODE_ENV !== "production",
      trustProxy: e.TRUST_PROXY,
    },
    sessions: {
      secret: e.SESSION_SECRET,
      idleSeconds: e.SESSION_IDLE_TTL_SECONDS,
      maxSessions: e.SESSION_MAX,
      requireSession: e.REQUIRE_SESSION,
      local:
        e.LOCAL_ACCESS_KEY_ID && e.LOCAL_SECRET_ACCESS_KEY
          ? { accessKeyId: e.LOCAL_ACCESS_KEY_ID, secretAccessKey: e.LOCAL_SECRET_ACCESS_KEY }
          : e.NODE_ENV === "production"
            ? undefined
            : { ...DEV_LOCAL_CREDENTIALS },
    },
    publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ""),
    uiDir: e.UI_DIR,
    redis: e.REDIS_URL ? { url: e.REDIS_URL, savingsLeaseMs: e.SAVINGS_LEASE_MS } : undefined,
  };
}
