import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CrashPoint } from "../../../src/services/crash-points.js";
import type { SavingsProgress } from "../../../src/services/savings/jobs.js";
import { createFsStore } from "../../../src/services/storage/fs-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { buildTestApp } from "../../helpers/app.js";
import { releaseVersions } from "../../helpers/releases.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../../helpers/s3rver.js";
import { REPO_ROOT } from "../../helpers/shared.js";

/**
 * `kill -9` of a real Glider process at named points of the first upload into a new DeltaSpace (the process pauses
 * there and says so on stderr: GLIDER_TEST_PAUSE_AT), then what users see on the same storage: listing, savings,
 * delete and a second upload. Defect: a crash after reference.bin left an orphan nothing could remove.
 */
const POINTS: { point: CrashPoint; listed: string[]; deleteStatus: number }[] = [
  { point: "upload:spooled", listed: [], deleteStatus: 404 },
  { point: "upload:reference-written", listed: [], deleteStatus: 200 },
  { point: "upload:delta-written", listed: ["fresh/app-1.0.zip"], deleteStatus: 200 },
];

const [v1] = releaseVersions(512 * 1024, 1, 5);

interface Backend {
  name: "fs" | "s3";
  env: Record<string, string>;
  store: () => ObjectStore;
  stop(): Promise<void>;
}

async function fsBackend(): Promise<Backend> {
  const dataDir = await mkdtemp(join(tmpdir(), "glider-crash-"));
  return {
    name: "fs",
    env: { STORAGE: "fs", DATA_DIR: dataDir },
    store: () => createFsStore(dataDir),
    stop: () => rm(dataDir, { recursive: true, force: true }),
  };
}

async function s3Backend(): Promise<Backend> {
  const s3: S3rverHandle = await startS3rver();
  return {
    name: "s3",
    env: {
      STORAGE: "s3",
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: "true",
      S3_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    },
    store: () => createS3StoreFor(s3),
    stop: () => s3.stop(),
  };
}

/** Starts `src/main.ts` and resolves with its base URL once it listens. */
async function startGlider(env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/main.ts")], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      PORT: "0",
      LOG_LEVEL: "info",
      SEED_DEMO: "false",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (!child.stdout) throw new Error("no stdout");
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`glider exited with ${code} before listening`)));
  });
  return { child, base };
}

async function pausedAt(child: ChildProcess): Promise<string> {
  if (!child.stderr) throw new Error("no stderr");
  const lines = createInterface({ input: child.stderr });
  return new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      if (line.startsWith('{"glider_paused_at"')) resolve(JSON.parse(line).glider_paused_at);
    });
    child.once("exit", (code) => reject(new Error(`glider exited with ${code} before pausing`)));
  });
}

async function lastEvent(events: AsyncIterable<SavingsProgress>): Promise<SavingsProgress | undefined> {
  let last: SavingsProgress | undefined;
  for await (const event of events) last = event;
  return last;
}

async function physicalKeys(store: ObjectStore, bucket: string, prefix: string): Promise<string[]> {
  return (await store.listObjects({ bucket, prefix })).objects.map((o) => o.key);
}

describe.each([
  ["fs", fsBackend],
  ["s3", s3Backend],
])("kill -9 during the first upload into a DeltaSpace (%s)", (_name, makeBackend) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await makeBackend();
  }, 60_000);
  afterAll(() => backend?.stop());

  it.each(POINTS)(
    "at $point: listing, savings, delete and a second upload stay consistent",
    async (c) => {
      const bucket = `crash-${c.point.replace(/[^a-z]/g, "")}`;
      await backend.store().createBucket(bucket);
      const { child, base } = await startGlider({ ...backend.env, GLIDER_TEST_PAUSE_AT: c.point });
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const paused = pausedAt(child);
      const upload = fetch(`${base}/api/upload?bucket=${bucket}&key=fresh/app-1.0.zip`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array(v1),
      }).catch((error: unknown) => error);
      expect(await paused).toBe(c.point);
      child.kill("SIGKILL");
      await exited;
      expect(await upload).toBeInstanceOf(Error);

      const app: FastifyInstance = await buildTestApp({ SEED_DEMO: "false" }, { store: backend.store() });
      try {
        const listing = await app.inject({ method: "GET", url: `/api/objects?bucket=${bucket}&prefix=fresh/` });
        expect(listing.statusCode).toBe(200);
        expect(listing.json().objects.map((o: { key: string }) => o.key)).toEqual(c.listed);

        await app.services.savings.start(bucket);
        const savings = await lastEvent(app.services.savings.watch(bucket));
        expect(savings).toMatchObject({ state: "DONE" });
        expect((await app.services.savings.status(bucket)).figures?.objectCount).toBe(c.listed.length);

        // Deleting the key whose first upload crashed removes everything it left, the orphaned reference included.
        const removed = await app.inject({ method: "DELETE", url: `/api/objects/${bucket}/fresh/app-1.0.zip` });
        expect(removed.statusCode).toBe(c.deleteStatus);
        expect(await physicalKeys(backend.store(), bucket, "fresh/")).toEqual([]);

        const again = await app.inject({
          method: "POST",
          url: `/api/upload?bucket=${bucket}&key=fresh/app-1.0.zip`,
          headers: { "content-type": "application/octet-stream" },
          payload: v1,
        });
        expect(again.statusCode).toBe(200);
        const prepared = await app.inject({
          method: "POST",
          url: "/api/download/prepare",
          payload: { bucket, key: "fresh/app-1.0.zip" },
        });
        const download = await app.inject({ method: "GET", url: `/api/download/${prepared.json().download_token}` });
        expect(download.statusCode).toBe(200);
        expect(Buffer.compare(download.rawPayload, v1)).toBe(0);
      } finally {
        await app.close();
      }
    },
    180_000,
  );
});

describe("orphaned references (README: Crash-consistent DeltaSpaces)", () => {
  it("an orphan is removed by deleting its reference key; a reference deltas still need is not", async () => {
    const app = await buildTestApp({ SEED_DEMO: "false" });
    try {
      const store = app.services.store;
      await store.createBucket("orphans");
      for (const key of ["used/app-1.0.zip", "orphan/app-1.0.zip"]) {
        const res = await app.inject({
          method: "POST",
          url: `/api/upload?bucket=orphans&key=${key}`,
          headers: { "content-type": "application/octet-stream" },
          payload: v1,
        });
        expect(res.statusCode).toBe(200);
      }
      // What a crash between reference.bin and the first delta leaves.
      await store.deleteObject("orphans", "orphan/app-1.0.zip.delta");
      const kept = await app.inject({ method: "DELETE", url: "/api/objects/orphans/used/reference.bin" });
      expect(kept.statusCode).toBe(404);
      const removed = await app.inject({ method: "DELETE", url: "/api/objects/orphans/orphan/reference.bin" });
      expect(removed.statusCode).toBe(200);
      expect(removed.json().deleted).toEqual(["orphan/reference.bin"]);
      expect(await physicalKeys(store, "orphans", "orphan/")).toEqual([]);
      expect(await physicalKeys(store, "orphans", "used/")).toEqual(["used/app-1.0.zip.delta", "used/reference.bin"]);
    } finally {
      await app.close();
    }
  });
});
