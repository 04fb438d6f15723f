/**
 * `glider`: a DeltaGlider-compatible command line over Glider's services, configured by the same environment as the
 * server. Results go to stdout, logs (silent unless GLIDER_LOG_LEVEL or LOG_LEVEL asks) and errors to stderr; every
 * failure is one stderr line starting with its code (`key_not_found: …`, `invalid configuration: …`).
 */
import { EventEmitter } from "node:events";
import { constants } from "node:os";
import { parseArgs } from "node:util";
import { destination, type Logger, pino } from "pino";
import { type Command, createContext } from "./cli/context.js";
import { cp } from "./cli/cp.js";
import { errorLine, exitStatusOf, usageError } from "./cli/errors.js";
import { ls } from "./cli/ls.js";
import { printError } from "./cli/progress.js";
import { rm } from "./cli/rm.js";
import { stats } from "./cli/stats.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { createServices, type Services } from "./services/index.js";

const USAGE = `usage: glider <command> [options]

  ls [-r] [--json] [s3://BUCKET[/PREFIX]]   logical objects: modified, original size, stored size, key
                                            (no URL: the buckets)
  cp [--json] s3://BUCKET/KEY FILE|DIR|-    download, reconstructed and verified
  cp [--json] FILE|- s3://BUCKET/KEY|PREFIX/ upload as DeltaGlider stores it (reference, delta or direct)
  cp -r [-j N] [--json] s3://BUCKET/PREFIX/ DIR/    download everything below a prefix (N at a time, default 4)
  cp -r [--json] DIR/ s3://BUCKET/PREFIX/   upload a folder tree
  rm [-r] [--json] s3://BUCKET/KEY|PREFIX/  delete a logical object, or with -r everything below a prefix
  stats [--json] s3://BUCKET                object count, original and stored bytes, savings

Configuration comes from the environment, as for the server: STORAGE (fs|memory|s3), DATA_DIR, S3_ENDPOINT,
S3_REGION, S3_FORCE_PATH_STYLE and the AWS credential chain. Logs go to stderr at GLIDER_LOG_LEVEL (or LOG_LEVEL),
silent by default. Errors: one stderr line "<code>: <message>", exit status 1 (2 for a wrong command line).`;

const COMMANDS: Record<string, { run: Command; flags: ReadonlySet<string> }> = {
  ls: { run: ls, flags: new Set(["recursive", "json"]) },
  cp: { run: cp, flags: new Set(["recursive", "json", "concurrency"]) },
  rm: { run: rm, flags: new Set(["recursive", "json"]) },
  stats: { run: stats, flags: new Set(["json"]) },
};

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

interface Invocation {
  command: (typeof COMMANDS)[string];
  args: string[];
  options: { recursive: boolean; json: boolean; concurrency: number };
}

function parseCommandLine(argv: string[]): Invocation | "help" {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        recursive: { type: "boolean", short: "r" },
        json: { type: "boolean" },
        concurrency: { type: "string", short: "j" },
        help: { type: "boolean", short: "h" },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw usageError(`${error instanceof Error ? error.message : String(error)} (glider --help shows the usage)`);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === "help") return "help";
  const [name, ...args] = positionals;
  if (name === undefined) throw usageError("no command given: ls, cp, rm or stats (glider --help shows the usage)");
  const command = COMMANDS[name];
  if (!command) throw usageError(`unknown command "${name}": ls, cp, rm or stats`);
  for (const flag of ["recursive", "json", "concurrency"] as const) {
    if (values[flag] !== undefined && !command.flags.has(flag)) {
      throw usageError(`${name} does not take --${flag}`);
    }
  }
  let concurrency = 4;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw usageError(`--concurrency expects an integer from 1 to 64, got "${values.concurrency}"`);
    }
    if (!values.recursive) throw usageError("--concurrency only applies to cp -r");
  }
  return {
    command,
    args,
    options: { recursive: values.recursive ?? false, json: values.json ?? false, concurrency },
  };
}

/** Logs on stderr (stdout carries results), silent unless asked for. */
function createCliLogger(env: NodeJS.ProcessEnv): Logger {
  const level = env.GLIDER_LOG_LEVEL || env.LOG_LEVEL || "silent";
  if (!LOG_LEVELS.includes(level)) {
    const variable = env.GLIDER_LOG_LEVEL ? "GLIDER_LOG_LEVEL" : "LOG_LEVEL";
    throw new ConfigError(
      `invalid configuration: ${variable}: expected one of ${LOG_LEVELS.join(", ")} (got "${level}")`,
    );
  }
  return pino({ level, base: { service: "glider-cli" } }, destination({ dest: 2, sync: true }));
}

/** The server's configuration, minus what a short-lived process must not start (Send's background sweeper). */
function cliConfig(env: NodeJS.ProcessEnv): Config {
  const config = loadConfig(env);
  return { ...config, send: { ...config.send, sweepIntervalMs: 0 } };
}

async function run(argv: string[]): Promise<number> {
  const invocation = parseCommandLine(argv);
  if (invocation === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // The AWS SDK's Node-version notice would be a second stderr line on every run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const config = cliConfig(process.env);
  const logger = createCliLogger(process.env);

  // One command's signal, and any signal a service derives from it, is shared by every request in flight (up to
  // HEAD_CONCURRENCY HEADs, plus transfers): by design, not a leak. Node's default of 10 would print a warning.
  EventEmitter.defaultMaxListeners = Math.max(EventEmitter.defaultMaxListeners, 1024);
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(128 + (constants.signals[signal] ?? 2));
    interrupted = signal;
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let services: Services | undefined;
  try {
    services = createServices(config, logger);
    const ctx = createContext(services, invocation.options, controller.signal);
    return await invocation.command.run(ctx, invocation.args);
  } catch (error) {
    if (interrupted) {
      printError(`interrupted: ${interrupted}`);
      return 128 + (constants.signals[interrupted] ?? 2);
    }
    throw error;
  } finally {
    await services?.close().catch((error: unknown) => logger.warn({ err: error }, "closing services failed"));
  }
}

/** Exits once stdout has taken everything (pipes may still hold output), whatever handles are left open. */
function exit(status: number): void {
  process.stdout.write("", () => process.exit(status));
}

run(process.argv.slice(2)).then(exit, (error: unknown) => {
  printError(errorLine(error));
  exit(exitStatusOf(error));
});
