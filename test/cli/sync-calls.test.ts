import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsStore } from "../../src/services/storage/fs-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { createS3StoreFor, startS3rver } from "../helpers/s3rver.js";
import { fsEnv, runCli, s3Env } from "./run.js";

/** `--debug` logs one JSON line per storage call on stderr; the store's own `close` is not a request. */
function storageOperations(errLines: string[]): string[] {
  return errLines
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string; operation: string })
    .filter((l) => l.msg === "storage call" && l.operation !== "close")
    .map((l) => l.operation);
}

const backends = [
  {
    name: "fs store",
    async setup() {
      const dir = await mkdtemp(join(tmpdir(), "glider-cli-sync-calls-"));
      return { env: fsEnv(dir), store: createFsStore(dir) as ObjectStore, stop: () => rm(dir, { recursive: true }) };
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

/**
 * What an unchanged `sync` costs in storage calls: deciding that nothing is to do takes the LIST pages and nothing
 * more, in either direction, as for `aws s3 sync` and the DeltaGlider CLI (no HEAD of the bucket first: on s3rver
 * that HEAD is a whole LIST). A missing bucket is still reported by the LIST itself.
 */
describe.each(backends)("glider sync storage calls on the $name", { timeout: 240_000 }, (backend) => {
  let env: Record<string, string>;
  let store: ObjectStore;
  let stop: () => Promise<void>;
  let work: string;
  const src = () => join(work, "src");

  beforeAll(async () => {
    await ensureCliBuilt();
    ({ env, store, stop } = await backend.setup());
    work = await mkdtemp(join(tmpdir(), "glider-cli-sync-calls-work-"));
    // Past one batch of the local scan's stats (64), in two folders.
    await mkdir(join(src(), "sub"), { recursive: true });
    for (let i = 0; i < 70; i++) await writeFile(join(src(), `f-${String(i).padStart(3, "0")}.json`), `{"i":${i}}`);
    await writeFile(join(src(), "sub", "g.txt"), "g");
    await store.createBucket("calls");
    const up = await runCli(["sync", "-q", src(), "s3://calls/p/"], env);
    expect(up.errLines).toEqual([]);
    expect(up.code).toBe(0);
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await stop?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("sync up of an unchanged prefix: one LIST, no HEAD of the bucket, nothing transferred", async () => {
    const r = await runCli(["--debug", "sync", src(), "s3://calls/p/"], env);
    expect(r.code).toBe(0);
    expect(r.out).toBe("Sync completed: already up to date\n");
    expect(storageOperations(r.errLines)).toEqual(["listObjects"]);
  });

  it("sync down into an up-to-date folder: one LIST, no HEAD of the bucket, nothing transferred", async () => {
    const dest = join(work, "down");
    expect((await runCli(["sync", "-q", "s3://calls/p/", dest], env)).code).toBe(0);
    const r = await runCli(["--debug", "sync", "s3://calls/p/", dest], env);
    expect(r.code).toBe(0);
    expect(r.out).toBe("Sync completed: already up to date\n");
    expect(storageOperations(r.errLines)).toEqual(["listObjects"]);
  });

  it("a missing bucket is still bucket_not_found (exit 1) in both directions", async () => {
    for (const args of [
      ["sync", src(), "s3://no-such-bucket/p/"],
      ["sync", "s3://no-such-bucket/p/", join(work, "nowhere")],
    ]) {
      const r = await runCli(args, env);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.errLines, args.join(" ")).toEqual([expect.stringMatching(/^bucket_not_found: /)]);
    }
  });

  it("Send's system bucket is bucket_not_found without a storage call", async () => {
    const r = await runCli(["--debug", "sync", src(), "s3://hidden-sys/"], {
      ...env,
      SEND_SYSTEM_BUCKET: "hidden-sys",
    });
    expect(r.code).toBe(1);
    expect(r.errLines.filter((l) => !l.startsWith("{"))).toEqual([expect.stringMatching(/^bucket_not_found: /)]);
    expect(storageOperations(r.errLines)).toEqual([]);
  });
});
