import { createHmac, timingSafeEqual } from "node:crypto";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { DownloadStream } from "../downloads/service.js";
import { GliderError, isGliderError } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { createSealer } from "../sessions/sealer.js";
import { createMemorySessionStore, type SessionRecord, type SessionStore } from "../sessions/store.js";
import { guardStore } from "../storage/guarded-store.js";
import { instrumentStore } from "../storage/instrumented-store.js";
import type { ObjectStore } from "../storage/object-store.js";
import { createS3Store } from "../storage/s3-store.js";
import { errorName } from "../storage/sdk-errors.js";
import { type Connection, createConnection } from "./connection.js";

/** What the Commander UI sends to sign in (`POST /api/auth/session {credentials}`), camel-cased. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  /** An S3 endpoint URL; empty means the server's store (or AWS when the server runs on S3 without one). */
  endpoint?: string;
  addressingStyle?: "path" | "virtual" | "auto";
}

/** S3 connection settings a session's credentials resolve to; sealed in the session store, never sent out. */
interface S3Settings {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SessionInfo {
  sessionId: string;
  connection: Connection;
  expiresInSeconds: number;
}

export interface RegistryDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Signs cursors and download tokens of every connection. */
  secret: string;
  now?: () => number;
  /** Builds a session's store (tests may wrap it); the default is the S3 store. */
  s3StoreFactory?: (settings: S3Settings) => ObjectStore;
  sessionStore?: SessionStore;
}

/** How long the sign-in probe (ListBuckets) may take before the endpoint counts as unreachable. */
const PROBE_TIMEOUT_MS = 10_000;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Turns a failed sign-in probe into what the UI expects: bad keys 403, unreachable endpoint 502. */
function probeError(error: unknown, endpoint: string | undefined): GliderError {
  const cause = isGliderError(error) ? error.cause : error;
  const name = errorName(cause);
  if (cause instanceof S3ServiceException) {
    const status = cause.$metadata.httpStatusCode;
    if (status === 403 || status === 401) {
      const reason =
        name === "AccessDenied"
          ? "these credentials may not list buckets (AccessDenied)"
          : `the storage refused these credentials (${name || status})`;
      return new GliderError("invalid_credentials", reason, { reason, endpoint });
    }
    return new GliderError("sdk_error", `the storage answered the sign-in check with ${name || status}`, {
      endpoint,
      reason: name,
    });
  }
  // A refused or reset connection (the guarded store's storage_unavailable) means the endpoint is unreachable.
  if (isGliderError(error) && error.code !== "sdk_error" && error.code !== "storage_unavailable") return error;
  const reason = `cannot reach ${endpoint ?? "the S3 endpoint"}: ${(cause as Error | undefined)?.message ?? name}`;
  return new GliderError("endpoint_unreachable", reason, { reason, endpoint });
}

/**
 * Storage connections by session. The server's configured store is the `server` connection (used by requests
 * without a session, unless REQUIRE_SESSION); a session signed in with S3 credentials gets a connection of its own,
 * built once per distinct credentials and closed when unused. Sessions hold only a connection id and the sealed
 * credentials (AES-GCM), so a connection can be rebuilt after it was closed; download links keep the sealed
 * credentials for their own lifetime, so they work without the session.
 */
export interface ConnectionRegistry {
  /**
   * Checks the credentials (a ListBuckets on S3; the local key pair otherwise) and opens a session:
   * `invalid_credentials` for refused keys, `endpoint_unreachable` when the endpoint does not answer (probeError).
   */
  login(credentials: SessionCredentials, signal?: AbortSignal): Promise<SessionInfo>;
  /** Forgets the session; its connection is closed when it idles out. */
  logout(sessionId: string): Promise<void>;
  /** The session's connection (refreshing its idle timer), or undefined when the session is unknown or expired. */
  session(sessionId: string): Promise<SessionInfo | undefined>;
  /**
   * The connection a request uses: its session's; the server's when it has no session cookie (refused with
   * `session_required` when REQUIRE_SESSION); `session_required` when its cookie names an unknown or expired
   * session, so the UI signs in again instead of silently seeing another store.
   */
  resolve(sessionId: string | undefined): Promise<Connection>;
  /** The live connection of `id`, rebuilt from its sealed credentials when it was closed; undefined when gone. */
  byId(id: string): Promise<Connection | undefined>;
  /** Keeps the connection's sealed credentials while a download link made from it is valid (until `untilMs`). */
  holdFor(connection: Connection, untilMs: number): void;
  /** Opens a download token of any connection: the token names it, no session is needed. */
  openDownload(token: string, signal?: AbortSignal): Promise<DownloadStream>;
  /** REQUIRE_SESSION: requests without a session are refused instead of using the server's store. */
  readonly requireSession: boolean;
  /** Closes every live session connection (the `server` connection belongs to whoever built it). */
  close(): Promise<void>;
}

export function createConnectionRegistry(deps: RegistryDeps, server: Connection): ConnectionRegistry {
  const { config, logger, metrics } = deps;
  const sessionsConfig = config.sessions;
  const now = deps.now ?? Date.now;
  const idleMs = sessionsConfig.idleSeconds * 1000;
  const sealer = createSealer(sessionsConfig.secret ?? deps.secret);
  const sessions =
    deps.sessionStore ?? createMemorySessionStore({ idleMs, max: sessionsConfig.maxSessions, now: deps.now });
  const idKey = createHmac("sha256", deps.secret).update("glider:connection-id").digest();
  const s3StoreFactory =
    deps.s3StoreFactory ??
    ((s: S3Settings) =>
      createS3Store({
        endpoint: s.endpoint,
        region: s.region,
        forcePathStyle: s.forcePathStyle,
        credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
      }));

  /** Live session connections; an idle one is closed and rebuilt from sealed credentials when needed again. */
  const live = new LRUCache<string, Connection>({
    max: Math.max(1, sessionsConfig.maxSessions),
    ttl: idleMs,
    updateAgeOnGet: true,
    perf: { now },
    ttlResolution: 0,
    dispose: (connection) => {
      if (closing) return;
      connection.close().catch((error) => logger.warn({ err: error, connection: connection.id }, "close failed"));
    },
  });
  /** Sealed credentials per connection id, kept as long as a session or a download link may need them. */
  const grants = new LRUCache<string, string>({ max: 100_000, ttl: idleMs, perf: { now }, ttlResolution: 0 });
  let closing = false;

  function s3Mode(credentials: SessionCredentials): boolean {
    return config.storage.kind === "s3" || Boolean(credentials.endpoint?.trim());
  }

  function settingsOf(credentials: SessionCredentials): S3Settings {
    const serverS3 = config.storage.kind === "s3" ? config.storage : undefined;
    const endpoint = credentials.endpoint?.trim() || serverS3?.endpoint;
    if (endpoint) {
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw new GliderError("invalid_request", "endpoint must be an http(s) URL", { parameter: "endpoint" });
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new GliderError("invalid_request", "endpoint must be an http(s) URL", { parameter: "endpoint" });
      }
    }
    const style = credentials.addressingStyle;
    return {
      endpoint,
      region: credentials.region?.trim() || serverS3?.region || "us-east-1",
      // S3-compatible stores on their own endpoint mostly want path style; AWS itself wants virtual hosts.
      forcePathStyle: style === "path" || ((style === undefined || style === "auto") && Boolean(endpoint)),
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
    };
  }

  function connectionIdOf(s: S3Settings): string {
    const digest = createHmac("sha256", idKey)
      .update(JSON.stringify([s.endpoint ?? "", s.region, s.forcePathStyle, s.accessKeyId, s.secretAccessKey]))
      .digest("base64url");
    return `s3:${digest.slice(0, 32)}`;
  }

  function build(id: string, settings: S3Settings): Connection {
    const storageLogger = logger.child({ component: "storage", connection: id });
    // A session's store gets the same deadlines and write compensation as the server's (storage/guarded-store.ts).
    const guarded = guardStore(s3StoreFactory(settings), {
      timeoutMs: config.limits.storageTimeoutMs,
      idleTimeoutMs: config.limits.storageIdleTimeoutMs,
      onCompensationFailed: (bucket, key, error) =>
        storageLogger.error({ err: error, bucket, key }, "could not undo a cancelled write"),
    });
    const store = instrumentStore(guarded.store, metrics, storageLogger);
    return createConnection(id, store, {
      config,
      logger,
      metrics,
      secret: deps.secret,
      now: deps.now,
      shareWith: server.deltaglider,
      scope: `${settings.endpoint ?? "aws"}|${settings.region}`,
    });
  }

  /** The live connection of `id`, rebuilt from its sealed credentials when it was closed; undefined when gone. */
  async function byId(id: string): Promise<Connection | undefined> {
    if (id === "server") return server;
    const existing = live.get(id);
    if (existing) return existing;
    const sealed = grants.get(id);
    const opened = sealed ? sealer.open(sealed) : undefined;
    if (!opened) return undefined;
    const connection = build(id, JSON.parse(opened) as S3Settings);
    live.set(id, connection);
    return connection;
  }

  function keepGrant(id: string, sealed: string, forMs: number) {
    const remaining = grants.has(id) ? grants.getRemainingTTL(id) : 0;
    grants.set(id, sealed, { ttl: Math.max(remaining, forMs) });
  }

  /** Checks the credentials (a ListBuckets on S3; the local key pair otherwise) and opens a session. */
  async function login(credentials: SessionCredentials, signal?: AbortSignal): Promise<SessionInfo> {
    if (!credentials.accessKeyId || !credentials.secretAccessKey) {
      throw new GliderError("invalid_request", "access_key_id and secret_access_key are required", {
        parameter: "credentials",
      });
    }
    let record: SessionRecord;
    let connection: Connection;
    if (s3Mode(credentials)) {
      const settings = settingsOf(credentials);
      const id = connectionIdOf(settings);
      const sealed = sealer.seal(JSON.stringify(settings));
      let existing = live.get(id);
      if (!existing) {
        const candidate = build(id, settings);
        try {
          const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
          await candidate.store.listBuckets(signal ? AbortSignal.any([signal, timeout]) : timeout);
        } catch (error) {
          await candidate.close().catch(() => undefined);
          signal?.throwIfAborted();
          throw probeError(error, settings.endpoint);
        }
        existing = live.get(id);
        if (existing) await candidate.close();
        else live.set(id, candidate);
        existing ??= candidate;
      }
      connection = existing;
      keepGrant(id, sealed, idleMs);
      record = { connectionId: id, sealedCredentials: sealed, createdAt: now() };
    } else {
      const local = sessionsConfig.local;
      if (!local) {
        throw new GliderError(
          "invalid_credentials",
          "sign-in to the local store is not configured (set LOCAL_ACCESS_KEY_ID and LOCAL_SECRET_ACCESS_KEY)",
          { reason: "local sign-in is not configured" },
        );
      }
      const ok =
        sameSecret(credentials.accessKeyId, local.accessKeyId) &&
        sameSecret(credentials.secretAccessKey, local.secretAccessKey);
      if (!ok) {
        throw new GliderError("invalid_credentials", "wrong access key or secret for this server's store", {
          reason: "wrong access key or secret for this server's store",
        });
      }
      connection = server;
      record = { connectionId: "server", createdAt: now() };
    }
    const sessionId = await sessions.create(record);
    return { sessionId, connection, expiresInSeconds: sessionsConfig.idleSeconds };
  }

  /** The session's connection (refreshing its idle timer), or undefined when the session is unknown or expired. */
  async function session(sessionId: string): Promise<SessionInfo | undefined> {
    const found = await sessions.touch(sessionId);
    if (!found) return undefined;
    const { record } = found;
    if (record.sealedCredentials) keepGrant(record.connectionId, record.sealedCredentials, idleMs);
    const connection = await byId(record.connectionId);
    if (!connection) return undefined;
    return { sessionId, connection, expiresInSeconds: Math.max(0, Math.floor(found.expiresInMs / 1000)) };
  }

  /**
   * The connection a request uses: its session's; the server's when it has no session cookie (refused with
   * `session_required` when REQUIRE_SESSION); `session_required` when its cookie names an unknown or expired
   * session, so the UI signs in again instead of silently seeing another store.
   */
  async function resolve(sessionId: string | undefined): Promise<Connection> {
    if (sessionId) {
      const found = await session(sessionId);
      if (found) return found.connection;
      throw new GliderError("session_required", "the session has expired: sign in again", { reason: "expired" });
    }
    if (sessionsConfig.requireSession) {
      throw new GliderError("session_required", "sign in first (POST /api/auth/session)", { reason: "missing" });
    }
    return server;
  }

  async function logout(sessionId: string): Promise<void> {
    await sessions.delete(sessionId);
  }

  /** Keeps the connection's sealed credentials while a download link made from it is valid. */
  function holdFor(connection: Connection, untilMs: number) {
    if (connection.id === "server") return;
    const sealed = grants.get(connection.id);
    if (sealed) keepGrant(connection.id, sealed, untilMs - now());
  }

  /** Opens a download token of any connection: the token names it, no session is needed. */
  async function openDownload(token: string, signal?: AbortSignal): Promise<DownloadStream> {
    const payload = server.downloads.verify(token);
    const connection = payload.c ? await byId(payload.c) : server;
    if (!connection) {
      throw new GliderError("download_token_expired", "the storage connection of this link is gone", {});
    }
    return connection.objects.open(payload.b, payload.k, signal, { likelyDelta: payload.d === 1 });
  }

  return {
    login,
    logout,
    session,
    resolve,
    byId,
    holdFor,
    openDownload,
    get requireSession() {
      return sessionsConfig.requireSession;
    },
    async close() {
      closing = true;
      const all = [...live.values()];
      live.clear();
      await Promise.allSettled(all.map((c) => c.close()));
    },
  };
}
