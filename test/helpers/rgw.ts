import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { createS3Store } from "../../src/services/storage/s3-store.js";
import { REPO_ROOT } from "./shared.js";

const run = promisify(execFile);

/** Where a running RGW is described to test workers (set by the global setup in test/helpers/rgw-global-setup.ts). */
export const RGW_ENV = {
  endpoint: "GLIDER_TEST_RGW_ENDPOINT",
  accessKeyId: "GLIDER_TEST_RGW_ACCESS_KEY_ID",
  secretAccessKey: "GLIDER_TEST_RGW_SECRET_ACCESS_KEY",
  /** The cluster folder (its ceph.conf), so workers can add users with radosgw-admin. */
  dir: "GLIDER_TEST_RGW_DIR",
} as const;

export interface RgwServer {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** The cluster's folder (ceph.conf, logs). */
  dir: string;
  /** The daemons' pids: monitor, OSD, radosgw (the last one serves S3). */
  pids: number[];
  stop(): Promise<void>;
}

/**
 * Starts a Ceph RADOS Gateway with test/helpers/rgw/start-rgw.sh (one monitor, one memstore OSD, radosgw on free
 * 127.0.0.1 ports) and resolves once S3 answers. Rejects with the daemons' logs when it cannot start.
 */
export async function startRgw(env: NodeJS.ProcessEnv = {}): Promise<RgwServer> {
  const child = spawn(join(REPO_ROOT, "test/helpers/rgw/start-rgw.sh"), [], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const info = await new Promise<{
    endpoint: string;
    accessKeyId: string;
    secretAccessKey: string;
    dir: string;
    pids: number[];
  }>((resolve, reject) => {
    child.once("error", (e) => reject(new Error(`could not run start-rgw.sh: ${e.message}`)));
    if (!child.stdout) return reject(new Error("start-rgw.sh has no stdout"));
    createInterface({ input: child.stdout }).once("line", (line) => resolve(JSON.parse(line)));
    void exited.then((code) => reject(new Error(`Ceph RGW did not start (exit ${code}):\n${stderr}`)));
  });
  return {
    endpoint: info.endpoint,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    region: "us-east-1",
    dir: info.dir,
    pids: info.pids,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/** The RGW started by the global setup, as the env vars describe it; throws when the run has none. */
export function rgwFromEnv(): Omit<RgwServer, "stop" | "pids"> {
  const endpoint = process.env[RGW_ENV.endpoint];
  const accessKeyId = process.env[RGW_ENV.accessKeyId];
  const secretAccessKey = process.env[RGW_ENV.secretAccessKey];
  const dir = process.env[RGW_ENV.dir];
  if (!endpoint || !accessKeyId || !secretAccessKey || !dir) {
    throw new Error(
      `no Ceph RGW for this run: ${RGW_ENV.endpoint} is unset (test/helpers/rgw-global-setup.ts starts one)`,
    );
  }
  return { endpoint, credentials: { accessKeyId, secretAccessKey }, region: "us-east-1", dir };
}

/**
 * A fresh RGW tenant with its own user: its bucket namespace is empty and private, so tests sharing one gateway
 * never see each other's buckets. Removing it purges its buckets.
 */
export async function createRgwTenant(server: Omit<RgwServer, "stop" | "pids"> = rgwFromEnv()): Promise<{
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  remove(): Promise<void>;
}> {
  const tenant = `t${randomBytes(6).toString("hex")}`;
  const accessKeyId = `GT${randomBytes(9).toString("hex").toUpperCase()}`;
  const secretAccessKey = randomBytes(20).toString("hex");
  const conf = ["-c", join(server.dir, "ceph.conf")];
  await run(
    "radosgw-admin",
    [...conf, "user", "create", "--tenant", tenant, "--uid", "glider", "--display-name", tenant].concat([
      "--access-key",
      accessKeyId,
      "--secret-key",
      secretAccessKey,
    ]),
    { timeout: 30_000 },
  );
  return {
    endpoint: server.endpoint,
    credentials: { accessKeyId, secretAccessKey },
    region: server.region,
    async remove() {
      await run("radosgw-admin", [...conf, "user", "rm", "--tenant", tenant, "--uid", "glider", "--purge-data"], {
        timeout: 60_000,
      });
    },
  };
}

export function createS3StoreForRgw(tenant: {
  endpoint: string;
  region: string;
  credentials: RgwServer["credentials"];
}) {
  return createS3Store({
    endpoint: tenant.endpoint,
    region: tenant.region,
    forcePathStyle: true,
    credentials: tenant.credentials,
  });
}
