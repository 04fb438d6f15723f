import type { Logger } from "pino";
import type { Config } from "../config.js";
import { createHealthService, type HealthService } from "./health.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createStore } from "./storage/index.js";
import { instrumentStore } from "./storage/instrumented-store.js";
import type { ObjectStore } from "./storage/object-store.js";

export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  store: ObjectStore;
  health: HealthService;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  /** A pre-built store (tests pass a counting or pre-loaded one). */
  store?: ObjectStore;
}

/** The only place clients and services are built; both front doors and the CLI share the result. */
export function createServices(config: Config, logger: Logger, overrides: ServiceOverrides = {}): Services {
  const metrics = createMetrics();
  const store = instrumentStore(
    overrides.store ?? createStore(config.storage),
    metrics,
    logger.child({ component: "storage" }),
  );
  return {
    config,
    logger,
    metrics,
    store,
    health: createHealthService(store),
    async close() {
      await store.close();
    },
  };
}
