import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createS3Store } from "../../src/services/storage/s3-store.js";
import { REPO_ROOT } from "./shared.js";

export interface S3rverHandle {
  endpoint: string;
  /** Credentials s3rver accepts; tests pass them explicitly, production uses the AWS chain. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  directory: string;
  stop(): Promise<void>;
}

export interface S3rverOptions {
  /**
   * "enforce" (default): our patch makes s3rver honour If-None-Match: * and If-Match, as AWS S3, MinIO and Ceph do.
   * "ignore": stock s3rver's behaviour, both headers ignored (a second create overwrites), to test Glider's safe
   * mode on a backend without conditional writes.
   */
  conditionalWrites?: "enforce" | "ignore";
  /** Its own key pair instead of S3RVER/S3RVER (s3rver checks the access key id, not SigV4 signatures). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Starts a real S3 server (s3rver, patched: see patches/) on 127.0.0.1 with a random port and a temp folder. */
export async function startS3rver(options: S3rverOptions = {}): Promise<S3rverHandle> {
  const credentials = options.credentials ?? { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const directory = await mkdtemp(join(tmpdir(), "glider-s3rver-"));
  const child: ChildProcess = spawn(
    process.execPath,
    ["--openssl-legacy-provider", join(REPO_ROOT, "test/helpers/s3rver-child.cjs"), directory],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        S3RVER_CONDITIONAL_WRITES: options.conditionalWrites ?? "enforce",
        ...(options.credentials
          ? { S3RVER_ACCESS_KEY_ID: credentials.accessKeyId, S3RVER_SECRET_ACCESS_KEY: credentials.secretAccessKey }
          : {}),
      },
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    if (!child.stdout) return reject(new Error("s3rver has no stdout"));
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => resolve(JSON.parse(line).port));
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code}: ${stderr}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials,
    region: "us-east-1",
    directory,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export function createS3StoreFor(s3: S3rverHandle) {
  return createS3Store({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: s3.credentials,
  });
}
