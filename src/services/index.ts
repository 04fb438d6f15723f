import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { BucketsService } from "./buckets/service.js";
import { type Connection, createConnection } from "./connections/connection.js";
import { type ConnectionRegistry, createConnectionRegistry, type RegistryDeps } from "./connections/registry.js";
import type { DeltaGlider } from "./deltaglider/index.js";
import type { DownloadsService } from "./downloads/service.js";
import { createHealthService, type HealthService } from "./health.js";
import { createMetrics, type Metrics } from "./metrics.js";
import type { ObjectsService } from "./objects/service.js";
import { createIndexStore } from "./savings/index-store.js";
import type { SavingsFacade } from "./savings/shared.js";
import type { AuditService } from "./send/audit/service.js";
import { createSendServices } from "./send/index.js";
import { createSystemStore } from "./send/system-store.js";
import type { TokensService } from "./send/tokens/service.js";
import type { TransfersService } from "./send/transfers/service.js";
import { createRedisSessionStore } from "./sessions/redis-store.js";
import { createSharedState, type SharedState } from "./shared/index.js";
import { randomSecret } from "./signing.js";
import { createConditionalWriteProbe } from "./storage/conditional-writes.js";
import { type GuardedStore, guardStore } from "./storage/guarded-store.js";
import { createStore } from "./storage/index.js";
import { instrumentStore } from "./storage/instrumented-store.js";
import type { ObjectStore } from "./storage/object-store.js";

export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  store: ObjectStore;
  /** Deadlines and write compensation around the store: when it last answered, cancelled writes being undone. */
  storageGuard: Omit<GuardedStore, "store">;
  health: HealthService;
  /** DeltaGlider semantics: logical listings, verified downloads, uploads, deletes. */
  deltaglider: DeltaGlider;
  /** Browsing for the UI (both front doors): cached listings, sorting, cursors, metadata, upload and delete. */
  objects: ObjectsService;
  /** Signed download tokens and the verified download stream. */
  downloads: DownloadsService;
  /** On-demand savings jobs: one scan per bucket, live progress, cached figures. */
  savings: SavingsFacade;
  /** Bucket figures (quick/sampled/detailed), create and delete (the Commander UI). */
  buckets: BucketsService;
  /** The storage connection these services use: the server's store, or a session's own (see connections/). */
  connection: Connection;
  /** Sessions and their connections. */
  connections: ConnectionRegistry;
  /** These services on another connection (process-wide parts shared); cached per connection. */
  forConnection(connection: Connection): Services;
  /** The services of a request's session (`session_required` when it expired, or when REQUIRE_SESSION and none). */
  forSession(sessionId: string | undefined): Promise<Services>;
  /** Send: transfers, sender tokens and the audit trail (system bucket `config.send.systemBucket`). */
  transfers: TransfersService;
  tokens: TokensService;
  audit: AuditService;
  /** In-process, or Redis when several instances share state (REDIS_URL). */
  shared: SharedState;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  /** A pre-built store (tests pass a counting or pre-loaded one). */
  store?: ObjectStore;
  /** Clock for Send (epoch ms); tests move it to expire transfers and tokens without sleeping. */
  now?: () => number;
  /** Builds the S3 store of a session (tests wrap it). */
  s3StoreFactory?: RegistryDeps["s3StoreFactory"];
  /** Where sessions live (tests inspect what is stored); in memory by default. */
  sessionStore?: RegistryDeps["sessionStore"];
}

/** The only place clients and services are built; both front doors and the CLI share the result. */
export function createServices(config: Config, logger: Logger, overrides: ServiceOverrides = {}): Services {
  const metrics = createMetrics();
  const shared = createSharedState(config.redis, logger);
  const storageLogger = logger.child({ component: "storage" });
  const guarded = guardStore(overrides.store ?? createStore(config.storage), {
    timeoutMs: config.limits.storageTimeoutMs,
    idleTimeoutMs: config.limits.storageIdleTimeoutMs,
    onCompensationFailed: (bucket, key, error) =>
      storageLogger.error({ err: error, bucket, key }, "could not undo a cancelled write"),
  });
  const store = instrumentStore(guarded.store, metrics, storageLogger);
  // Probed at first use (an upload's reference, a Send download, or /ready), then reported in the log and a metric.
  const conditionalWrites = createConditionalWriteProbe(store, config.send.systemBucket, (support) => {
    for (const [condition, on] of [
      ["if_none_match", support.ifNoneMatch],
      ["if_match", support.ifMatch],
    ] as const) {
      metrics.conditionalWrites.set({ backend: store.kind, condition }, on ? 1 : 0);
    }
    const fields = { backend: store.kind, if_none_match: support.ifNoneMatch, if_match: support.ifMatch };
    if (support.ifNoneMatch) logger.info(fields, "object store enforces conditional writes");
    else {
      logger.warn(
        fields,
        "object store ignores If-None-Match: reference creation is serialised in this process and verified after " +
          "writing; Send transfers with max_downloads > 0 are refused",
      );
    }
  });
  const secret = config.downloadTokenSecret ?? randomSecret();
  if (!config.downloadTokenSecret) {
    logger.warn(
      "DOWNLOAD_TOKEN_SECRET is not set: using a random one, so tokens and cursors only work on this instance",
    );
  }
  if (!config.sessions.secret) {
    logger.warn("SESSION_SECRET is not set: sessions are encrypted with a random key and end when the process does");
  }
  const server = createConnection("server", store, {
    config,
    logger,
    metrics,
    secret,
    now: overrides.now,
    conditionalWrites,
    // Savings indexes live beside Send's records, so every instance (and the next process) reuses them.
    savingsIndex: createIndexStore(createSystemStore(store, config.send.systemBucket)),
    shared,
  });
  const connections = createConnectionRegistry(
    {
      config,
      logger,
      metrics,
      secret,
      now: overrides.now,
      s3StoreFactory: overrides.s3StoreFactory,
      // Several instances share sessions through Redis; one instance keeps them in memory.
      sessionStore:
        overrides.sessionStore ??
        (shared.redis
          ? createRedisSessionStore(shared.redis, {
              idleMs: config.sessions.idleSeconds * 1000,
              max: config.sessions.maxSessions,
            })
          : undefined),
    },
    server,
  );
  const send = createSendServices(config.send, store, logger, overrides.now, conditionalWrites, shared.locks);
  const views = new WeakMap<Connection, Services>();
  const services: Services = {
    config,
    logger,
    metrics,
    store,
    storageGuard: { lastAnswerAt: guarded.lastAnswerAt, compensations: guarded.compensations },
    health: createHealthService(store, {
      lastAnswerAt: guarded.lastAnswerAt,
      freshMs: config.limits.readyFreshMs,
      probeTimeoutMs: config.limits.readyProbeTimeoutMs,
      conditionalWrites,
      redis: shared.redis,
    }),
    deltaglider: server.deltaglider,
    objects: server.objects,
    downloads: server.downloads,
    savings: server.savings,
    buckets: server.buckets,
    connection: server,
    connections,
    forConnection(connection) {
      if (connection === server) return services;
      let view = views.get(connection);
      if (!view) {
        view = {
          ...services,
          store: connection.store,
          deltaglider: connection.deltaglider,
          objects: connection.objects,
          downloads: connection.downloads,
          savings: connection.savings,
          buckets: connection.buckets,
          connection,
        };
        views.set(connection, view);
      }
      return view;
    },
    async forSession(sessionId) {
      return services.forConnection(await connections.resolve(sessionId));
    },
    ...send,
    shared,
    async close() {
      await connections.close();
      // Running savings jobs end CANCELLED while the store can still answer their in-flight calls.
      await server.savings.close();
      await server.deltaglider.close();
      await send.transfers.close();
      await guarded.compensations.drained();
      await store.close();
      await shared.close();
    },
  };
  return services;
}
