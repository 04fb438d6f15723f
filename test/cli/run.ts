import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createFsStore } from "../../src/services/storage/fs-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { CLI_ENTRY } from "../helpers/cli-build.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../helpers/s3rver.js";
import { REPO_ROOT } from "../helpers/shared.js";

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as text. */
  out: string;
  /** Non-empty stderr lines. */
  errLines: string[];
}

/** Environment pointing the CLI at s3rver, as a user would configure it against MinIO or AWS. */
export function s3Env(s3: S3rverHandle): Record<string, string> {
  return {
    STORAGE: "s3",
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_REGION: s3.region,
  };
}

/** Environment pointing the CLI at a filesystem store below `dataDir`. */
export function fsEnv(dataDir: string): Record<string, string> {
  return { STORAGE: "fs", DATA_DIR: dataDir };
}

/**
 * Runs the compiled `glider <args>` (bin/glider.js, built by `ensureCliBuilt` in the file's setup) as its own
 * process, optionally feeding stdin.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: Buffer; entry?: string[]; cwd?: string } = {},
): Promise<CliResult> {
  const entry = options.entry ?? [CLI_ENTRY];
  // The CLI must not depend on anything the test runner's environment happens to hold.
  const { LOG_LEVEL: _l, GLIDER_LOG_LEVEL: _g, STORAGE: _s, AWS_ENDPOINT_URL: _e, ...base } = process.env;
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...base, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => stdout.push(d));
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  child.stdin.end(options.stdin ?? Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      const out = Buffer.concat(stdout);
      resolve({
        code,
        stdout: out,
        stderr,
        out: out.toString("utf8"),
        errLines: stderr.split("\n").filter((l) => l.trim() !== ""),
      });
    });
  });
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every entry below `root` as `/`-separated relative paths (folders end with `/`), sorted. */
export async function treeOf(root: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(dir: string) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path).split("\\").join("/");
      if (entry.isDirectory()) {
        out.push(`${rel}/`);
        await visit(path);
      } else out.push(rel);
    }
  }
  await visit(root);
  return out.sort();
}

export async function fileSha256(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** A store the CLI runs against, and the same store opened in the test to look behind the CLI. */
export interface CliBackend {
  name: string;
  setup(): Promise<{ env: Record<string, string>; store: ObjectStore; stop(): Promise<void> }>;
}

/** The CLI suites run on both: the embedded filesystem store and a real S3 server. */
export const CLI_BACKENDS: CliBackend[] = [
  {
    name: "fs store",
    async setup() {
      const dir = await mkdtemp(join(tmpdir(), "glider-cli-fs-"));
      // One store for the whole file, beside the CLI processes: each keeps its temp files in its own folder.
      const store = createFsStore(dir);
      return {
        env: fsEnv(dir),
        store,
        // No store.close(): through the proxy it would open a store (emptying its temp folder) under this rm.
        async stop() {
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: "s3rver",
    async setup() {
      const s3 = await startS3rver();
      const store = createS3StoreFor(s3);
      return {
        env: s3Env(s3),
        store,
        async stop() {
          await store.close();
          await s3.stop();
        },
      };
    },
  },
];
