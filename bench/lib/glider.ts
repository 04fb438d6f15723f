import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { CPU_PROF_DIR, REPO_ROOT } from "./env.js";
import type { S3Handle } from "./s3.js";

/** A Glider server running as a child process (`node dist/main.js`, as deployed; PORT=0) on 127.0.0.1. */
export interface GliderServer {
  pid: number;
  url: string;
  /** SIGTERM and wait for the exit (in-flight requests get SHUTDOWN_TIMEOUT_MS). */
  stop(): Promise<void>;
}

export interface GliderOptions {
  /** STORAGE=s3 against this s3rver; otherwise STORAGE=fs in `dataDir`, or STORAGE=memory. */
  s3?: S3Handle;
  dataDir?: string;
  memory?: boolean;
  /** Extra or overriding environment variables. */
  env?: Record<string, string>;
  /** Name of the --cpu-prof file when BENCH_CPU_PROF is set. */
  profileName?: string;
}

/** The environment every benchmark server gets; parts add to it. */
export function serverEnv(options: GliderOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "warn",
    SEED_DEMO: "false",
    DOWNLOAD_TOKEN_SECRET: "bench-download-token-secret-0123456789",
    SEND_IP_HASH_SECRET: "bench-ip-hash-secret-0123456789",
    SEND_SWEEP_INTERVAL_MS: "0",
    SHUTDOWN_TIMEOUT_MS: "3000",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  if (options.s3) {
    Object.assign(env, {
      STORAGE: "s3",
      S3_ENDPOINT: options.s3.endpoint,
      S3_FORCE_PATH_STYLE: "true",
      S3_REGION: options.s3.region,
      AWS_REGION: options.s3.region,
      AWS_ACCESS_KEY_ID: options.s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: options.s3.credentials.secretAccessKey,
    });
  } else if (options.memory) {
    env.STORAGE = "memory";
  } else {
    if (!options.dataDir) throw new Error("startGlider needs s3, dataDir or memory");
    Object.assign(env, { STORAGE: "fs", DATA_DIR: options.dataDir });
  }
  return { ...env, ...options.env };
}

/** Listening TCP ports of `pid`: its socket inodes matched against /proc/<pid>/net/tcp{,6} rows in LISTEN state. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // fd closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (cols.length > 9 && cols[3] === "0A" && inodes.has(cols[9])) {
        ports.push(Number.parseInt(cols[1].split(":")[1], 16));
      }
    }
  }
  return ports;
}

let built: Promise<unknown> | undefined;

/**
 * Compiles src/ to dist/ once per bench process (`npm run build`). Servers run the compiled JavaScript, as in
 * production: under tsx the loader thread alone adds ~35 MB of RSS, which the memory figures would count.
 */
function build(): Promise<unknown> {
  built ??= promisify(execFile)(
    process.execPath,
    [join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: REPO_ROOT,
    },
  );
  return built;
}

export async function startGlider(options: GliderOptions): Promise<GliderServer> {
  await build();
  const args: string[] = [];
  if (CPU_PROF_DIR) {
    // One folder per server: the main thread, the loader thread and each worker write their own profile there
    // (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; the main thread's has thread id 0).
    const dir = join(CPU_PROF_DIR, `${options.profileName ?? "glider"}-${Date.now()}`);
    args.push("--cpu-prof", `--cpu-prof-dir=${dir}`);
  }
  args.push("dist/main.js");
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: serverEnv(options),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start the Glider server");

  const deadline = Date.now() + 60_000;
  let port: number | undefined;
  while (port === undefined) {
    if (child.exitCode !== null) throw new Error(`Glider exited with ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`Glider did not listen within 60 s: ${output}`);
    }
    try {
      port = listeningPorts(pid)[0];
    } catch {
      // /proc entries not there yet
    }
    if (port === undefined) await sleep(50);
  }
  const url = `http://127.0.0.1:${port}`;
  // Listening precedes readiness only by microseconds, but /ready also proves the storage answers.
  for (;;) {
    const ready = await fetch(`${url}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`Glider at ${url} never became ready: ${output}`);
    await sleep(100);
  }

  return {
    pid,
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      if (child.exitCode !== 0 && child.exitCode !== null) {
        throw new Error(`Glider exited with ${child.exitCode}: ${output}`);
      }
    },
  };
}

/**
 * Glider built in this process (`buildApp`) over a store the caller prepared, listening on 127.0.0.1:0. For figures
 * that need a pre-loaded store and no RSS; the bench's own client shares the event loop, so measure one request at
 * a time.
 */
export async function startInProcess(store: ObjectStore, env: Record<string, string> = {}): Promise<GliderServer> {
  const config = loadConfig(serverEnv({ memory: true, env }));
  const app = await buildApp(config, { overrides: { store } });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { pid: process.pid, url: `http://127.0.0.1:${port}`, stop: () => app.close() };
}
