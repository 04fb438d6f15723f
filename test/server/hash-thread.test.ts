import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { postJson, startBrowseApp } from "../helpers/browse-app.js";
import { expected } from "../helpers/bucket-fixture.js";
import { REPO_ROOT } from "../helpers/shared.js";

/** Over HASH_OFFLOAD_MIN_BYTES (1 MiB): its download is hashed on the thread. */
const LARGE = "apps/viewer/viewer-4.1.1.zip";

describe("the sha256 thread of downloads", () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    // A regression would leave the child waiting forever: end it by its own pid.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("is running after a large download and gone once the app has closed", async () => {
    const want = expected.objects.find((o) => o.key === LARGE);
    expect(want?.original_bytes).toBeGreaterThan(1024 * 1024);
    const { app, base } = await startBrowseApp(createMemoryStore());
    const hasher = app.services.deltaglider.hasher;
    try {
      const prep = await postJson(base, "/api/download/prepare", { bucket: "fixture", key: LARGE });
      const res = await fetch(`${base}/api/download/${prep.body.download_token}`);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(want?.sha256);
      expect(hasher.streamsOpened).toBe(1);
      expect(hasher.threadRunning).toBe(true);
    } finally {
      await app.close();
    }
    expect(hasher.threadRunning).toBe(false);
    expect(hasher.openStreams).toBe(0);
  });

  it("refuses a large download whose output does not match its recorded sha256, as it did before the thread", async () => {
    const store = createMemoryStore();
    const { app, base } = await startBrowseApp(store);
    const hasher = app.services.deltaglider.hasher;
    try {
      const delta = await store.getObject({ bucket: "fixture", key: `${LARGE}.delta` });
      const body = Buffer.concat(await delta.body.toArray());
      await store.putObject({
        bucket: "fixture",
        key: `${LARGE}.delta`,
        body,
        metadata: { ...delta.head.metadata, "dg-file-sha256": "0".repeat(64) },
      });
      const prep = await postJson(base, "/api/download/prepare", { bucket: "fixture", key: LARGE });
      const res = await fetch(`${base}/api/download/${prep.body.download_token}`);
      // Under 8 MiB the whole object is checked before the first byte: a clean error, not a truncated 200.
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe("integrity_failed");
      expect(hasher.streamsOpened).toBe(1);
    } finally {
      await app.close();
    }
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
