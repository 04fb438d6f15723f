import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { AuditService } from "./audit/service.js";
import { createHealthService, type HealthService } from "./health.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createStore } from "./storage/index.js";
import { instrumentStore } from "./storage/instrumented-store.js";
import type { ObjectStore } from "./storage/object-store.js";
import type { TokensService } from "./tokens/service.js";
import { createSendServices } from "./transfers/send.js";
import type { TransfersService } from "./transfers/service.js";

export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  store: ObjectStore;
  health: HealthService;
  /** Send: transfers, sender tokens and the audit trail (system bucket `config.send.systemBucket`). */
  transfers: TransfersService;
  tokens: TokensService;
  audit: AuditService;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  /** A pre-built store (tests pass a counting or pre-loaded one). */
  store?: ObjectStore;
  /** Clock for Send (epoch ms); tests move it to expire transfers and tokens without sleeping. */
  now?: () => number;
}

/** The only place clients and services are built; both front doors and the CLI share the result. */
export function createServices(config: Config, logger: Logger, overrides: ServiceOverrides = {}): Services {
  const metrics = createMetrics();
  const store = instrumentStore(
    overrides.store ?? createStore(config.storage),
    metrics,
    logger.child({ component: "storage" }),
  );
  const send = createSendServices(config.send, store, logger, overrides.now);
  return {
    config,
    logger,
    metrics,
    store,
    health: createHealthService(store),
    ...send,
    async close() {
      await send.transfers.close();
      await store.close();
    },
  };
}
