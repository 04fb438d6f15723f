import { DEFAULT_SYSTEM_BUCKET, envSchema } from "./config-schema.js";

export { DEFAULT_SYSTEM_BUCKET };

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
