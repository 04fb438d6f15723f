import { type ChildProcess, spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { type S3rverHandle, startS3rver } from "../helpers/s3rver.js";
import { REPO_ROOT } from "../helpers/shared.js";

type Line = Record<string, unknown>;

/** A child's stdout and stderr, line by line as written, with a wait for a parsed stdout line to appear. */
function watch(child: ChildProcess) {
  const out: string[] = [];
  const err: string[] = [];
  const waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  const parsed = (text: string): Line | undefined => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  if (!child.stdout || !child.stderr) throw new Error("no pipes");
  createInterface({ input: child.stdout }).on("line", (text) => {
    out.push(text);
    const line = parsed(text);
    if (!line) return;
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  createInterface({ input: child.stderr }).on("line", (text) => err.push(text));
  const waitFor = (match: (line: Line) => boolean) =>
    new Promise<Line>((resolve) => {
      const found = out.map(parsed).find((line) => line && match(line));
      if (found) resolve(found);
      else waiters.push({ match, resolve });
    });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { out, err, waitFor, exited };
}

/** The process's environment minus the test runner's AWS notice switch: main.ts must turn it off itself. */
function cleanEnv(extra: Record<string, string>) {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...extra };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return env;
}

const notJson = (lines: string[]) =>
  lines.filter((text) => {
    try {
      return typeof JSON.parse(text) !== "object";
    } catch {
      return true;
    }
  });

describe("the server's stdout and stderr", () => {
  let s3: S3rverHandle | undefined;
  afterAll(() => s3?.stop());

  it("are JSON lines only while it serves S3-backed requests, a GraphQL error, a bad URL and an aborted download", async () => {
    s3 = await startS3rver();
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/main.ts")], {
      cwd: REPO_ROOT,
      env: cleanEnv({
        PORT: "0",
        LOG_LEVEL: "info",
        STORAGE: "s3",
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: "true",
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        AWS_REGION: s3.region,
        OBJECTS_RATE_LIMIT: "0",
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const { out, err, waitFor, exited } = watch(child);
    const listening = await waitFor((l) => String(l.msg).startsWith("Server listening at"));
    const base = String(/http:\/\/127\.0\.0\.1:\d+/.exec(String(listening.msg))?.[0]);
    const json = { "content-type": "application/json" };

    expect((await fetch(`${base}/api/buckets`, { method: "POST", headers: json, body: '{"name":"out"}' })).status).toBe(
      201,
    );
    // Larger than the socket buffers, so the download below is still running when the client leaves.
    const size = 16 * 1024 * 1024;
    const upload = await fetch(`${base}/api/upload?bucket=out&key=big.bin`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.alloc(size, 3),
    });
    expect(upload.status).toBe(200);
    expect((await fetch(`${base}/api/objects?bucket=out`)).status).toBe(200);
    const failed = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ query: 'mutation { computeSavings(input: { bucket: "nope" }) { job { taskId } } }' }),
    });
    expect((await failed.json()).errors[0].extensions.code).toBe("bucket_not_found");
    expect((await fetch(`${base}/api/%E0%A4%A`)).status).toBe(400);

    const prepared = await fetch(`${base}/api/download/prepare`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ bucket: "out", key: "big.bin" }),
    });
    const { download_token: token } = (await prepared.json()) as { download_token: string };
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${base}/api/download/${token}`, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.once("error", (error) =>
        (error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error),
      );
      req.end();
    });
    await waitFor((l) => l.msg === "request" && l.route === "/api/download/:token" && l.aborted === true);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out.length).toBeGreaterThan(5);
    expect(notJson(out)).toEqual([]);
    expect(notJson(err)).toEqual([]);
    // The expected domain error is a message at info, not an error-level dump.
    const lines = out.map((text) => JSON.parse(text) as Line);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(lines.some((l) => l.operation === "putObject" && typeof l.reqId === "string")).toBe(true);
  });

  it("routes console output and process warnings through the logger", async () => {
    const script = [
      'import { createLogger } from "./src/logger.ts";',
      'import { routeProcessOutput } from "./src/process-output.ts";',
      'routeProcessOutput(createLogger("debug"));',
      'console.log("plain %d", 1); console.warn("from a library"); console.error(new Error("boom"));',
      'process.emitWarning("NodeVersionSupportWarning: upgrade", "NodeVersionSupportWarning");',
    ].join("\n");
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      env: cleanEnv({}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const { out, err, exited } = watch(child);
    expect(await exited).toBe(0);
    expect(notJson(out)).toEqual([]);
    expect(err).toEqual([]);
    const lines = out.map((text) => JSON.parse(text) as Line);
    expect(lines.map((l) => [l.level, String(l.msg).split("\n")[0]])).toEqual([
      [30, "plain 1"],
      [40, "from a library"],
      [50, "Error: boom"],
      [40, "NodeVersionSupportWarning: upgrade"],
    ]);
  });
});
