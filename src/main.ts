import { existsSync } from "node:fs";
import { buildApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { routeProcessOutput } from "./process-output.js";
import { seedDemoBucket } from "./services/deltaglider/demo.js";

/** `.env` in the working directory, when present; variables already in the environment win (Node's parser). */
function loadDotEnv() {
  if (existsSync(".env")) process.loadEnvFile(".env");
}

async function main() {
  // Nothing but JSON on stdout/stderr: the AWS SDK's Node-version notice is off at its cause; what else prints is
  // routed through pino (process-output.ts).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  let config: ReturnType<typeof loadConfig>;
  try {
    loadDotEnv();
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  routeProcessOutput(logger);
  const app = await buildApp(config, { logger });
  await app.listen({ host: config.host, port: config.port });
  if (config.deltaglider.seedDemo && config.storage.kind !== "s3") {
    // In the background: the demo appears within seconds, the server answers meanwhile.
    seedDemoBucket(app.services.store, app.services.deltaglider, logger).catch((error) =>
      logger.warn({ err: error }, "could not seed the demo bucket"),
    );
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
    const deadline = setTimeout(() => {
      logger.warn({ timeoutMs: config.shutdownTimeoutMs }, "in-flight requests did not finish in time; exiting");
      app.server.closeAllConnections();
      process.exit(0);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    app.close().then(
      () => {
        logger.info("shut down cleanly");
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, "error while shutting down");
        process.exit(0);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(`glider failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
