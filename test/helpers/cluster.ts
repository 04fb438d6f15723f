import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type S3rverHandle, startS3rver } from "./s3rver.js";
import { REPO_ROOT } from "./shared.js";

/** A free TCP port on 127.0.0.1 (redis-server takes a port number, not 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisHandle {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM by pid and wait for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (an outage ends). */
  restart(): Promise<void>;
}

/** Waits for a line of `child`'s stdout matching `pattern`; rejects if the child exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error(`${what} has no stdout`));
    let output = "";
    const lines = createInterface({ input: child.stdout });
    const onLine = (line: string) => {
      output = `${output}${line}\n`.slice(-4000);
      const match = pattern.exec(line);
      if (match) {
        lines.off("line", onLine);
        child.off("exit", onExit);
        // Keep draining stdout so a chatty child never blocks on a full pipe.
        child.stdout?.resume();
        resolve(match);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`${what} exited (${code}) before ready:\n${output}`));
    lines.on("line", onLine);
    child.once("exit", onExit);
    child.once("error", (error) => reject(new Error(`${what} could not start: ${error.message}`)));
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}

/**
 * Starts `redis-server` (Debian's, on PATH; `.ci/run` installs it) on a free loopback port, no persistence. A missing
 * binary fails loudly.
 */
export async function startRedis(): Promise<RedisHandle> {
  const port = await freePort();
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "notice"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    await waitForLine(child, /Ready to accept connections/, "redis-server");
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid ?? -1;
    },
    stop: () => stopChild(child),
    restart: launch,
  };
}

export interface GliderProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** SIGTERM, wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), wait for the exit. */
  kill(): Promise<void>;
  /** The log lines at level warn and above so far (JSON), for failure messages. */
  problems(): string[];
}

/** Environment shared by every instance of a cluster: one S3, one Redis, the same secrets. */
export function clusterEnv(s3: S3rverHandle, redis: RedisHandle | undefined, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    SEED_DEMO: "false",
    STORAGE: "s3",
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    S3_REGION: s3.region,
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    DOWNLOAD_TOKEN_SECRET: "cluster-download-token-secret-0123",
    SESSION_SECRET: "cluster-session-secret-0123456789",
    SEND_IP_HASH_SECRET: "cluster-ip-hash-secret-0123456789",
    SEND_ADMIN_API_KEY: "cluster-admin-key-0123456789",
    SEND_SWEEP_INTERVAL_MS: "0",
    SHUTDOWN_TIMEOUT_MS: "2000",
    ...extra,
  };
  if (redis) env.REDIS_URL = redis.url;
  return env;
}

/** One Glider instance as a child process (`tsx src/main.ts`), resolved once it listens. */
export async function startGliderProcess(env: Record<string, string>): Promise<GliderProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/main.ts")], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr = `${stderr}${d}`.slice(-4000);
  });
  const problems: string[] = [];
  if (child.stdout) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (/"level":(40|50|60)/.test(line) && problems.length < 200) problems.push(line);
    });
  }
  const match = await waitForLine(child, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/, "glider").catch((error) => {
    throw new Error(`${error.message}\n${stderr}`);
  });
  return {
    url: match[1],
    pid: child.pid ?? -1,
    child,
    stop: () => stopChild(child),
    kill: () => stopChild(child, "SIGKILL"),
    problems: () => problems,
  };
}

export interface Cluster {
  s3: S3rverHandle;
  redis?: RedisHandle;
  instances: GliderProcess[];
  env: Record<string, string>;
  /** The instances' base URLs, round-robin: each call answers the next one. */
  next(): string;
  /** The instances not killed or stopped. */
  live(): GliderProcess[];
  /** Starts one more instance on the same S3, Redis and secrets (after one was killed, say). */
  add(): Promise<GliderProcess>;
  /** fetch against the next instance, round-robin. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * s3rver, redis-server (unless `redis: false`) and `count` Glider instances on them with the same secrets. Stop it in
 * afterAll: every child is stopped by its pid.
 */
export async function startCluster(
  options: { count?: number; redis?: boolean; env?: Record<string, string> } = {},
): Promise<Cluster> {
  const s3 = await startS3rver();
  const started: { stop(): Promise<void> }[] = [s3];
  try {
    const redis = options.redis === false ? undefined : await startRedis();
    if (redis) started.push(redis);
    const env = clusterEnv(s3, redis, options.env);
    const instances: GliderProcess[] = [];
    // One at a time: the first creates the system bucket, and two cores are shared.
    for (let i = 0; i < (options.count ?? 3); i++) {
      const instance = await startGliderProcess(env);
      instances.push(instance);
      started.push(instance);
    }
    let turn = 0;
    const live = () => instances.filter((i) => i.child.exitCode === null && i.child.signalCode === null);
    // Killed instances drop out of the rotation.
    const next = () => {
      const up = live();
      return up[turn++ % up.length].url;
    };
    return {
      s3,
      redis,
      instances,
      env,
      next,
      live,
      fetch: (path, init) => fetch(`${next()}${path}`, init),
      async add() {
        const instance = await startGliderProcess(env);
        instances.push(instance);
        return instance;
      },
      async stop() {
        for (const instance of instances) await instance.stop();
        await redis?.stop();
        await s3.stop();
      },
    };
  } catch (error) {
    for (const handle of started.reverse()) await handle.stop().catch(() => {});
    throw error;
  }
}
