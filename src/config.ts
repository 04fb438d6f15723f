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
  GRAPHIQL: bool(true),
  SHUTDOWN_TIMEOUT_MS: int(8000, 100, 60_000),
});

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
    graphiql: e.GRAPHIQL && e.NODE_ENV !== "production",
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
