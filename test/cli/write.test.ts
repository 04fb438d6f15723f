import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { loadBucketFixture } from "../helpers/bucket-fixture.js";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../helpers/s3rver.js";
import { fileSha256, runCli, s3Env, sha256, treeOf } from "./run.js";

async function physicalKeys(store: ObjectStore, bucket: string, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await store.listObjects({ bucket, prefix, continuationToken });
    keys.push(...page.objects.map((o) => o.key));
    continuationToken = page.nextContinuationToken;
  } while (continuationToken);
  return keys;
}

/** A release-like archive and a slightly changed next version of it. */
function releasePair(size: number): [Buffer, Buffer] {
  const first = randomBytes(size);
  const second = Buffer.from(first);
  for (let i = 0; i < 64; i++) second[Math.floor((i * size) / 64)] ^= 0x5a;
  return [first, second];
}

/** The glider CLI as a process writing to and deleting from a real S3 server (s3rver). */
describe("glider CLI: writing and deleting", () => {
  let s3: S3rverHandle;
  let store: ObjectStore;
  let env: Record<string, string>;
  let work: string;

  beforeAll(async () => {
    await ensureCliBuilt();
    s3 = await startS3rver();
    store = createS3StoreFor(s3);
    env = s3Env(s3);
    work = await mkdtemp(join(tmpdir(), "glider-cli-write-"));
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await store?.close();
    await s3?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("cp uploads as DeltaGlider stores them (reference, delta, direct) and downloads them back", async () => {
    await store.createBucket("uploads");
    const [v1, v2] = releasePair(300_000);
    await writeFile(join(work, "app-1.0.zip"), v1);
    await writeFile(join(work, "app-1.1.zip"), v2);
    await writeFile(join(work, "notes.txt"), "release notes\n");

    const first = await runCli(["cp", "--json", join(work, "app-1.0.zip"), "s3://uploads/releases/"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out).operations[0]).toMatchObject({
      action: "upload",
      destination: "s3://uploads/releases/app-1.0.zip",
      stored_as: "reference",
      bytes: 300_000,
    });
    const second = await runCli(["cp", "--json", join(work, "app-1.1.zip"), "s3://uploads/releases/app-1.1.zip"], env);
    expect(second.code).toBe(0);
    const delta = JSON.parse(second.out).operations[0];
    expect(delta).toMatchObject({
      destination: "s3://uploads/releases/app-1.1.zip",
      stored_as: "delta",
      bytes: 300_000,
    });
    expect(delta.stored_bytes).toBeLessThan(30_000);
    const text = await runCli(["cp", join(work, "notes.txt"), "s3://uploads/releases/"], env);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(
      /^upload: '.*notes\.txt' to 's3:\/\/uploads\/releases\/notes\.txt' \(direct: 14 bytes\)\n$/,
    );
    expect((await physicalKeys(store, "uploads")).sort()).toEqual([
      "releases/app-1.0.zip.delta",
      "releases/app-1.1.zip.delta",
      "releases/notes.txt",
      "releases/reference.bin",
    ]);

    const back = join(work, "back");
    await mkdir(back);
    for (const [name, bytes] of [
      ["app-1.0.zip", v1],
      ["app-1.1.zip", v2],
    ] as const) {
      const down = await runCli(["cp", `s3://uploads/releases/${name}`, back], env);
      expect(down.code).toBe(0);
      expect(await fileSha256(join(back, name))).toBe(sha256(bytes));
    }
  });

  it("cp reads stdin and writes stdout with -", async () => {
    await store.createBucket("pipes");
    const body = randomBytes(50_000);
    const up = await runCli(["cp", "--json", "-", "s3://pipes/in/blob.tar"], env, { stdin: body });
    expect(up.code).toBe(0);
    expect(JSON.parse(up.out).operations[0]).toMatchObject({
      source: "-",
      destination: "s3://pipes/in/blob.tar",
      stored_as: "reference",
      bytes: 50_000,
    });
    const down = await runCli(["cp", "s3://pipes/in/blob.tar", "-"], env);
    expect(down.code).toBe(0);
    expect(down.stdout.equals(body)).toBe(true);
    const noKey = await runCli(["cp", "-", "s3://pipes/in/"], env, { stdin: body });
    expect(noKey.code).toBe(2);
    expect(noKey.errLines).toEqual([expect.stringMatching(/^invalid_request: /)]);
  });

  it("cp -r uploads a folder tree and cp -r downloads it back identical", async () => {
    await store.createBucket("other");
    const tree = join(work, "tree");
    const [a, b] = releasePair(120_000);
    const files: Record<string, Buffer> = {
      "build-1.zip": a,
      "build-2.zip": b,
      "docs/readme.md": Buffer.from("# hello\n"),
      "docs/deep/empty.txt": Buffer.alloc(0),
      "ünïcode name.bin": randomBytes(1000),
    };
    for (const [rel, bytes] of Object.entries(files)) {
      await mkdir(join(tree, rel, ".."), { recursive: true });
      await writeFile(join(tree, rel), bytes);
    }
    const up = await runCli(["cp", "-r", "--json", `${tree}/`, "s3://other/p/"], env);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    const report = JSON.parse(up.out);
    const reports = [...report.operations].sort((x, y) => (x.destination < y.destination ? -1 : 1));
    expect(reports.map((r: { destination: string; stored_as: string }) => [r.destination, r.stored_as])).toEqual([
      ["s3://other/p/build-1.zip", "reference"],
      ["s3://other/p/build-2.zip", "delta"],
      ["s3://other/p/docs/deep/empty.txt", "direct"],
      ["s3://other/p/docs/readme.md", "direct"],
      ["s3://other/p/ünïcode name.bin", "direct"],
    ]);
    expect(report.summary).toMatchObject({ succeeded: 5, failed: 0 });

    const down = join(work, "tree-back");
    const back = await runCli(["cp", "-r", "s3://other/p/", down], env);
    expect(back.stderr).toBe("");
    expect(back.code).toBe(0);
    expect(await treeOf(down)).toEqual(await treeOf(tree));
    for (const [rel, bytes] of Object.entries(files))
      expect(sha256(await readFile(join(down, rel)))).toBe(sha256(bytes));
  });

  it("cp -r up reports files it cannot store, keeps going and exits non-zero", async () => {
    const tree = join(work, "bad-tree");
    await mkdir(tree);
    await writeFile(join(tree, "a.txt"), "a");
    await writeFile(join(tree, "b.delta"), "b");
    await writeFile(join(tree, "c.txt"), "c");
    const { code, errLines, out } = await runCli(["cp", "-r", tree, "s3://other/bad"], env);
    expect(code).toBe(1);
    expect(errLines).toEqual([expect.stringMatching(/^invalid_key: .*b\.delta/), "cp: 1 of 3 objects failed"]);
    expect(out.trimEnd().split("\n")).toHaveLength(2);
    expect((await physicalKeys(store, "other", "bad/")).sort()).toEqual(["bad/a.txt", "bad/c.txt"]);
  });

  it("an upload to a missing bucket fails with bucket_not_found", async () => {
    await writeFile(join(work, "x.txt"), "x");
    const { code, errLines } = await runCli(["cp", join(work, "x.txt"), "s3://no-such-bucket/x.txt"], env);
    expect(code).toBe(1);
    expect(errLines).toEqual([expect.stringMatching(/^bucket_not_found: /)]);
  });

  it("a download that fails verification after bytes flowed leaves neither the file nor a temp file", async () => {
    await store.createBucket("big");
    const size = 9 * 1024 * 1024; // above the 8 MiB verified-before-first-byte threshold: the failure comes at the end
    const source = join(work, "big.bin");
    await writeFile(source, randomBytes(size));
    expect((await runCli(["cp", source, "s3://big/big.bin"], env)).code).toBe(0);
    const got = await store.getObject({ bucket: "big", key: "big.bin" });
    const bytes = Buffer.concat(await got.body.toArray());
    bytes[size - 10] ^= 0xff;
    await store.putObject({ bucket: "big", key: "big.bin", body: bytes, metadata: got.head.metadata });

    const dir = join(work, "big-down");
    await mkdir(dir);
    const { code, errLines } = await runCli(["cp", "s3://big/big.bin", join(dir, "big.bin")], env);
    expect(code).toBe(1);
    expect(errLines).toEqual([expect.stringMatching(/^integrity_failed: /)]);
    expect(await treeOf(dir)).toEqual([]);
  });

  it("rm deletes a key, rm -r a prefix with its reference, and a missing key is only noted (as S3 and DeltaGlider)", async () => {
    await loadBucketFixture(store, "rmtest");
    const key = "apps/viewer/viewer-4.0.1.zip";
    const removed = await runCli(["rm", `s3://rmtest/${key}`], env);
    expect(removed.code).toBe(0);
    expect(removed.out).toBe(`delete: s3://rmtest/${key}\n`);
    const after = JSON.parse((await runCli(["ls", "--json", "s3://rmtest/apps/viewer/"], env)).out);
    expect(after.objects.map((o: { key: string }) => o.key)).toEqual([
      "apps/viewer/RELEASE-NOTES.txt",
      "apps/viewer/viewer-4.0.0.zip",
      "apps/viewer/viewer-4.1.0.zip",
      "apps/viewer/viewer-4.1.1.zip",
    ]);
    // The other deltas still decode against the reference that stayed.
    const still = await runCli(["cp", "s3://rmtest/apps/viewer/viewer-4.1.1.zip", join(work, "still.zip")], env);
    expect(still.code).toBe(0);

    const prefix = await runCli(["rm", "-r", "--json", "s3://rmtest/sdk/"], env);
    expect(prefix.code).toBe(0);
    expect(
      JSON.parse(prefix.out)
        .operations.map((o: { destination: string }) => o.destination.slice("s3://rmtest/".length))
        .sort(),
    ).toEqual([
      "sdk/2.3/acme-sdk-2.3.0.zip",
      "sdk/2.3/acme-sdk-2.3.1.zip",
      "sdk/2.3/acme-sdk-2.3.2.zip",
      "sdk/2.3/acme-sdk-2.3.2.zip-manifest.json",
    ]);
    expect(await physicalKeys(store, "rmtest", "sdk/")).toEqual([]);
    const listed = JSON.parse((await runCli(["ls", "-r", "--json", "s3://rmtest/"], env)).out);
    expect(listed.objects.some((o: { key: string }) => o.key.startsWith("sdk/"))).toBe(false);

    const missing = await runCli(["rm", "s3://rmtest/apps/viewer/viewer-4.0.1.zip"], env);
    expect(missing.code).toBe(0);
    expect(missing.out).toBe("");
    expect(missing.errLines).toEqual(["delete: nothing found at s3://rmtest/apps/viewer/viewer-4.0.1.zip"]);
    expect(existsSync(join(work, "still.zip"))).toBe(true);
  });
});
