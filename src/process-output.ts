import { format } from "node:util";
import type { Logger } from "pino";

/**
 * The server's stdout and stderr carry JSON lines only, so a log shipper never meets a stray text line. Libraries
 * that print (the AWS SDK's console.warn fallbacks, Node's process warnings such as its own version notice) go
 * through pino instead, at the level they meant. The CLI (src/cli) is a terminal program and does not call this.
 */
export function routeProcessOutput(logger: Logger) {
  const log = logger.child({ source: "console" });
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (...args: unknown[]) =>
      log[level](format(...args));
  console.debug = at("debug");
  console.trace = at("debug");
  console.log = at("info");
  console.info = at("info");
  console.warn = at("warn");
  console.error = at("error");
  // Node's default "warning" listener writes "(node:123) Warning: …" to stderr; a listener of ours replaces it.
  process.removeAllListeners("warning");
  process.on("warning", (warning) =>
    logger.warn(
      { source: "process", warning: warning.name, code: (warning as { code?: string }).code },
      warning.message,
    ),
  );
  // Node prints an uncaught error's stack as text before exiting: log it as one fatal line, then exit the same way.
  process.on("uncaughtException", (error) => {
    logger.fatal({ err: error }, "uncaught exception: exiting");
    process.exit(1);
  });
}
