import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { postJson, startBrowseApp } from "../helpers/browse-app.js";
import { REPO_ROOT } from "../helpers/shared.js";

/** Over the 8 MiB verified before the first byte: streamed, and hashed on the thread. */
const SIZE = 9 * 1024 * 1024;

describe("the sha256 thread of downloads", () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const store = createMemoryStore();
  let app: FastifyInstance;
  let base: string;
  let closed = false;
  const v1 = randomBytes(SIZE);
  const v2 = Buffer.from(v1);
  v2.fill(7, 1000, 5000);
  v2.fill(9, SIZE - 3000, SIZE - 100);
  const sha2 = createHash("sha256").update(v2).digest("hex");

  beforeAll(async () => {
    ({ app, base } = await startBrowseApp(store));
    for (const [key, body] of [
      ["big/app-1.0.zip", v1],
      ["big/app-1.1.zip", v2],
    ] as const) {
      const res = await fetch(`${base}/api/upload?bucket=fixture&key=${encodeURIComponent(key)}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body,
      });
      expect(res.status).toBe(200);
    }
    expect((await store.headObject("fixture", "big/app-1.1.zip.delta")).size).toBeLessThan(SIZE);
  });
  afterAll(async () => {
    if (!closed) await app.close();
    // A regression would leave the child waiting forever: end it by its own pid.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function download(key: string) {
    const prep = await postJson(base, "/api/download/prepare", { bucket: "fixture", key });
    const res = await fetch(`${base}/api/download/${prep.body.download_token}`);
    let size = 0;
    const hash = createHash("sha256");
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        hash.update(chunk);
      }
      return { status: res.status, complete: true, size, sha256: hash.digest("hex") };
    } catch {
      return { status: res.status, complete: false, size };
    }
  }

  it("streams a large delta's bytes, hashed on the thread", async () => {
    const hasher = app.services.deltaglider.hasher;
    const opened = hasher.streamsOpened;
    expect(await download("big/app-1.1.zip")).toEqual({ status: 200, complete: true, size: SIZE, sha256: sha2 });
    expect(hasher.streamsOpened).toBe(opened + 1);
    expect(hasher.threadRunning).toBe(true);
  });

  it("aborts a large download whose output does not match its recorded sha256: never a complete body", async () => {
    const hasher = app.services.deltaglider.hasher;
    const key = "big/app-1.1.zip.delta";
    const delta = await store.getObject({ bucket: "fixture", key });
    const body = Buffer.concat(await delta.body.toArray());
    await store.putObject({
      bucket: "fixture",
      key,
      body,
      metadata: { ...delta.head.metadata, "dg-file-sha256": "0".repeat(64) },
    });
    const opened = hasher.streamsOpened;
    try {
      // Streamed: the headers are out, so the check fails the connection and holds back the last bytes.
      const got = await download("big/app-1.1.zip");
      expect(got).toMatchObject({ status: 200, complete: false });
      expect(got.size).toBeLessThan(SIZE);
      expect(hasher.streamsOpened).toBe(opened + 1);
    } finally {
      await store.putObject({ bucket: "fixture", key, body, metadata: delta.head.metadata });
    }
  });

  it("is gone once the app has closed", async () => {
    const hasher = app.services.deltaglider.hasher;
    expect(hasher.threadsStarted).toBeGreaterThan(0);
    closed = true;
    await app.close();
    expect(hasher.threadRunning).toBe(false);
    expect(hasher.openStreams).toBe(0);
  });

  it("does not keep a process alive that hashed on it and never closed it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "glider-hash-thread-"));
    dirs.push(dir);
    const script = join(dir, "main.mts");
    const module = pathToFileURL(join(REPO_ROOT, "src/services/deltaglider/hash-pool.ts")).href;
    await writeFile(
      script,
      [
        `import { createHashPool } from ${JSON.stringify(module)};`,
        "const pool = createHashPool();",
        "const stream = pool.open();",
        "stream.update(new Uint8Array(new SharedArrayBuffer(1 << 20)), () => {});",
        "console.log(await stream.digest(), pool.threadRunning);",
        "// No pool.close(): the idle thread must not hold the process open.",
      ].join("\n"),
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    // A thread that held the process open would make this wait until the test's timeout.
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect({ code, err }).toEqual({ code: 0, err: "" });
    const zeros = createHash("sha256")
      .update(Buffer.alloc(1 << 20))
      .digest("hex");
    expect(out.trim()).toBe(`${zeros} true`);
  });
});
