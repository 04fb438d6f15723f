import { EventEmitter } from "node:events";
import { availableParallelism, constants } from "node:os";
import type { Logger } from "pino";
import { type Config, ConfigError, loadConfig } from "../config.js";
import { GliderError } from "../services/errors.js";
import type { ToolServices } from "../services/tool.js";
import { errorLine, exitStatusOf, usageError } from "./errors.js";
import { clearStatus, createProgress, type Progress, printError } from "./progress.js";

/** Commander's parsed options, flags of every verb together (each verb reads its own). */
export type RawOptions = Record<string, unknown>;

export interface CommandContext {
  services: ToolServices;
  config: Config;
  options: RawOptions;
  signal: AbortSignal;
  json: boolean;
  quiet: boolean;
  jobs: number;
  /** One human line on stdout (nothing in --json mode). */
  line(text: string): void;
  /** The one JSON document of --json mode. */
  printJson(value: unknown): void;
  /** An informational line on stderr (never with -q or --json). */
  note(text: string): void;
  /** A failure of one object, on stderr (the command carries on). */
  warn(error: unknown, subject?: string): void;
  progress(label: string, totals?: { bytes?: number; items?: number }): Progress;
  /** Whether progress is drawn: transfers may skip work done only for the bar. */
  progressEnabled: boolean;
}

export type Verb = (ctx: CommandContext, args: string[]) => Promise<number>;

/** One failed object in a recursive command's report. */
export interface Failure {
  subject: string;
  code: string;
  message: string;
}

export function failureOf(error: unknown, subject: string): Failure {
  const line = errorLine(error);
  const colon = line.indexOf(": ");
  return { subject, code: line.slice(0, colon), message: line.slice(colon + 2) };
}

/** Every object-moving verb answers --json with this one shape. */
export interface TransferReport {
  command: string;
  dry_run: boolean;
  operations: Record<string, unknown>[];
  failures: Failure[];
  summary: { succeeded: number; failed: number; skipped: number; bytes: number };
}

/** Collects what a transfer verb did; `finish` prints the JSON document or the failure summary, and gives the exit status. */
export function createReport(ctx: CommandContext, command: string, dryRun = false) {
  const report: TransferReport = {
    command,
    dry_run: dryRun,
    operations: [],
    failures: [],
    summary: { succeeded: 0, failed: 0, skipped: 0, bytes: 0 },
  };
  return {
    report,
    done(operation: Record<string, unknown> & { bytes?: number }, human?: string) {
      report.operations.push(operation);
      report.summary.succeeded++;
      report.summary.bytes += operation.bytes ?? 0;
      if (human !== undefined && !ctx.quiet) ctx.line(human);
    },
    skipped(n = 1) {
      report.summary.skipped += n;
    },
    failed(subject: string, error: unknown) {
      const failure = failureOf(error, subject);
      report.failures.push(failure);
      report.summary.failed++;
      ctx.warn(error, subject);
    },
    finish(): number {
      if (ctx.json) ctx.printJson(report);
      if (report.summary.failed > 0) {
        const total = report.summary.failed + report.summary.succeeded;
        printError(`${command}: ${report.summary.failed} of ${total} objects failed`);
        return 1;
      }
      return 0;
    },
  };
}

function defaultJobs(): number {
  return Math.min(16, Math.max(4, availableParallelism() * 2));
}

function parseJobs(value: unknown): number {
  if (value === undefined) return defaultJobs();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw usageError(`--jobs expects an integer from 1 to 64, got "${value}"`);
  return n;
}

function parseMaxRatio(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1)
    throw usageError(`--max-ratio expects a number above 0 and at most 1, got "${value}"`);
  return n;
}

/**
 * The environment with the connection flags applied: `--endpoint-url` (or the AWS CLI's `AWS_ENDPOINT_URL` when
 * STORAGE is unset) selects the s3 store with path-style addressing unless S3_FORCE_PATH_STYLE says otherwise;
 * `--region` sets its region; `--profile` selects the AWS credentials profile.
 */
export function connectionEnv(env: NodeJS.ProcessEnv, options: RawOptions): NodeJS.ProcessEnv {
  const out = { ...env };
  const endpoint = (options.endpointUrl as string | undefined) ?? (env.STORAGE ? undefined : env.AWS_ENDPOINT_URL);
  if (endpoint) {
    out.STORAGE = "s3";
    out.S3_ENDPOINT = endpoint;
    out.S3_FORCE_PATH_STYLE ??= "true";
  }
  if (options.region) out.S3_REGION = options.region as string;
  else if (!env.S3_REGION && (env.AWS_REGION || env.AWS_DEFAULT_REGION)) {
    out.S3_REGION = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  }
  if (options.profile) out.AWS_PROFILE = options.profile as string;
  return out;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * The logger when nothing is to be logged (the usual case): it drops every call, so a plain `glider ls` does not
 * load pino and its worker-thread transport code. The tool services only log through `child()` loggers (--debug).
 */
function silentLogger(): Logger {
  const drop = () => undefined;
  const logger = {
    level: "silent",
    fatal: drop,
    error: drop,
    warn: drop,
    info: drop,
    debug: drop,
    trace: drop,
    silent: drop,
    isLevelEnabled: () => false,
    child: () => logger,
  };
  return logger as unknown as Logger;
}

async function createLogger(env: NodeJS.ProcessEnv, debug: boolean): Promise<Logger> {
  const level = debug ? "debug" : env.GLIDER_LOG_LEVEL || "silent";
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(
      `invalid configuration: GLIDER_LOG_LEVEL: expected one of ${LOG_LEVELS.join(", ")} (got "${level}")`,
    );
  }
  if (level === "silent") return silentLogger();
  // pino is CommonJS: its module object is the default export both in Node and in the bundled CLI (where a dynamic
  // import of a CommonJS chunk has no named exports).
  const { default: pino } = await import("pino");
  const { destination } = pino;
  return pino({ level, base: { service: "glider-cli" } }, destination({ dest: 2, sync: true }));
}

/** Parses, connects, runs one verb (`load` imports its module), closes everything; resolves to the exit status. */
export async function runVerb(
  load: () => Promise<{ run: Verb }>,
  args: string[],
  options: RawOptions,
): Promise<number> {
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C leaves at once; the first one stops cleanly (temp files removed, no half-written objects).
    if (interrupted) process.exit(128 + (constants.signals[signal] ?? 2));
    interrupted = signal;
    controller.abort(new GliderError("internal", `interrupted by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // `glider ls | head`: the reader went away. Stop as a Unix tool stops on SIGPIPE, cleanly (as for Ctrl-C) and
  // silently, with status 141; never an unhandled EPIPE. Stays attached to the end: later writes fail the same way.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
    if (interrupted) return;
    interrupted = "SIGPIPE";
    controller.abort(new GliderError("internal", "standard output was closed"));
  });
  // One command's signal is shared by every request in flight: by design, not a leak.
  EventEmitter.defaultMaxListeners = Math.max(EventEmitter.defaultMaxListeners, 1024);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

  let services: ToolServices | undefined;
  try {
    const jobs = parseJobs(options.jobs);
    const maxRatio = parseMaxRatio(options.maxRatio);
    const env = connectionEnv(process.env, options);
    if (options.profile) process.env.AWS_PROFILE = options.profile as string;
    const loaded = loadConfig(env);
    // A short-lived process must not start Send's background sweeper.
    const config: Config = { ...loaded, send: { ...loaded.send, sweepIntervalMs: 0 } };
    const debug = options.debug === true;
    const logger = await createLogger(process.env, debug);
    const { createToolServices } = await import("../services/tool.js");
    services = await createToolServices(config, logger, { maxRatio, instrument: debug });
    const json = options.json === true;
    const quiet = options.quiet === true;
    const progressEnabled = !quiet && options.progress !== false && process.stderr.isTTY === true;
    const ctx: CommandContext = {
      services,
      config,
      options,
      signal: controller.signal,
      json,
      quiet,
      jobs,
      progressEnabled,
      line(text) {
        if (json) return;
        // A progress line on the same terminal is removed first, then redrawn below by the next update.
        clearStatus();
        process.stdout.write(`${text}\n`);
      },
      printJson(value) {
        process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      },
      note(text) {
        if (!quiet && !json) printError(text);
      },
      warn(error, subject) {
        printError(errorLine(error, subject));
      },
      progress(label, totals = {}) {
        return createProgress({ label, totalBytes: totals.bytes, totalItems: totals.items, enabled: progressEnabled });
      },
    };
    const status = await (await load()).run(ctx, args);
    if (interrupted) throw controller.signal.reason;
    return status;
  } catch (error) {
    if (interrupted) {
      if (interrupted !== "SIGPIPE") printError(`interrupted: ${interrupted}`);
      return 128 + (constants.signals[interrupted] ?? 2);
    }
    printError(errorLine(error));
    return exitStatusOf(error);
  } finally {
    await services?.close().catch(() => undefined);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
