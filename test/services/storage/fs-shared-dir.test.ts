import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFsStore } from "../../../src/services/storage/fs-store.js";
import { hostLabel, TMP_DIR } from "../../../src/services/storage/fs-temp.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { CHILD_BODY, inFlightBody } from "../../helpers/fs-store-body.js";
import { REPO_ROOT } from "../../helpers/shared.js";

async function readAll(store: ObjectStore, bucket: string, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await store.getObject({ bucket, key })).body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The fs-store child process (test/helpers/fs-store-child.ts) and its stdout, one line per `next()`. */
function startChild(dataDir: string, bucket: string, key: string) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "test/helpers/fs-store-child.ts"), dataDir, bucket, key],
    { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    async line(): Promise<string> {
      const next = await lines.next();
      if (next.done) throw new Error("the child exited before printing its next line");
      return next.value;
    },
  };
}

/** The temp folders below the store root that belong to process `pid`. */
async function foldersOf(dataDir: string, pid: number): Promise<string[]> {
  return (await readdir(join(dataDir, TMP_DIR))).filter((name) => name.startsWith(`p${pid}-`));
}

/**
 * Two processes sharing one data dir (server + CLI, two servers on a volume): each writes into its own temp folder,
 * a starting store never removes another live writer's files, and leftovers of dead processes are swept.
 */
describe("filesystem store: a data dir shared between processes", () => {
  let dataDir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "glider-fs-shared-"));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await once(child, "exit");
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it("a second store opened in the dir leaves the first one's write in flight alone, and lists no temp files", async () => {
    const a = createFsStore(dataDir);
    await a.createBucket("shared");
    const bytes = Buffer.alloc(200_000, "in flight ");
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inFlight!: () => void;
    const written = new Promise<void>((resolve) => {
      inFlight = resolve;
    });
    const put = a.putObject({ bucket: "shared", key: "k.bin", body: inFlightBody(bytes, inFlight, released) });
    await written;
    const [ownFolder] = await foldersOf(dataDir, process.pid);
    expect(await readdir(join(dataDir, TMP_DIR, ownFolder))).toHaveLength(1);

    const b = createFsStore(dataDir);
    await b.ping();
    expect((await readdir(join(dataDir, TMP_DIR))).sort()).toHaveLength(2);
    expect(await readdir(join(dataDir, TMP_DIR, ownFolder))).toHaveLength(1);
    expect((await b.listBuckets()).map((bucket) => bucket.name)).toEqual(["shared"]);
    expect((await b.listObjects({ bucket: "shared" })).objects).toEqual([]);

    release();
    await put;
    expect((await readAll(b, "shared", "k.bin")).equals(bytes)).toBe(true);
    await a.close();
    await b.close();
    expect(await readdir(join(dataDir, TMP_DIR))).toEqual([]);
  });

  it("a live child process's write survives a store started here, and completes", async () => {
    const { child, line } = startChild(dataDir, "shared", "child.bin");
    children.push(child);
    expect(await line()).toBe("inflight");
    const [childFolder] = await foldersOf(dataDir, child.pid ?? -1);
    expect(childFolder).toMatch(new RegExp(`^p${child.pid}-[0-9a-f]{12}-${hostLabel().replaceAll(".", "\\.")}$`));

    const here = createFsStore(dataDir);
    await here.ping();
    expect(await readdir(join(dataDir, TMP_DIR, childFolder))).toHaveLength(1);

    child.stdin?.write("go\n");
    expect(await line()).toMatch(/^done "[0-9a-f]{32}"$/);
    expect((await once(child, "exit"))[0]).toBe(0);
    expect((await readAll(here, "shared", "child.bin")).equals(CHILD_BODY)).toBe(true);
    // The child's close removed its own (then empty) folder.
    expect(await foldersOf(dataDir, child.pid ?? -1)).toEqual([]);
    await here.close();
  });

  it("a killed process's temp folder is swept by the next store opened on this host", async () => {
    const { child, line } = startChild(dataDir, "shared", "killed.bin");
    children.push(child);
    expect(await line()).toBe("inflight");
    const pid = child.pid ?? -1;
    child.kill("SIGKILL");
    await once(child, "exit");
    const [leftover] = await foldersOf(dataDir, pid);
    expect(await readdir(join(dataDir, TMP_DIR, leftover))).toHaveLength(1);

    const next = createFsStore(dataDir);
    await next.ping();
    expect(await foldersOf(dataDir, pid)).toEqual([]);
    expect((await next.listObjects({ bucket: "shared" })).objects).toEqual([]);
    await next.close();
  });

  it("a store whose idle temp folder was swept (by another host, after a day) makes it again on the next write", async () => {
    const store = createFsStore(dataDir);
    await store.createBucket("shared");
    const [own] = await foldersOf(dataDir, process.pid);
    await rm(join(dataDir, TMP_DIR, own), { recursive: true });
    await store.putObject({ bucket: "shared", key: "after-sweep.txt", body: Buffer.from("still writes") });
    expect((await readAll(store, "shared", "after-sweep.txt")).toString()).toBe("still writes");
    await store.copyObject({ bucket: "shared", sourceKey: "after-sweep.txt", destinationKey: "copy.txt" });
    expect((await readAll(store, "shared", "copy.txt")).toString()).toBe("still writes");
    await store.close();
  });

  it("another host's folders stay until they are a day untouched; stray old entries go too", async () => {
    const tmpRoot = join(dataDir, TMP_DIR);
    const recent = join(tmpRoot, "p1-0123456789ab-other-host");
    const stale = join(tmpRoot, "p2-0123456789ab-other-host");
    const legacy = join(tmpRoot, "0f1e2d3c.meta");
    for (const folder of [recent, stale]) {
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, "blob"), "x");
    }
    await writeFile(legacy, "{}");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    for (const path of [join(stale, "blob"), stale, legacy]) await utimes(path, twoDaysAgo, twoDaysAgo);
    // A recent file inside keeps a folder alive even when the folder's own mtime is old.
    await utimes(recent, twoDaysAgo, twoDaysAgo);

    const store = createFsStore(dataDir);
    await store.ping();
    const left = await readdir(tmpRoot);
    expect(left).toContain("p1-0123456789ab-other-host");
    expect(left).not.toContain("p2-0123456789ab-other-host");
    expect(left).not.toContain("0f1e2d3c.meta");
    await store.close();
  });
});
