import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareKeys } from "../../src/services/storage/keys.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { expected, loadBucketFixture } from "../helpers/bucket-fixture.js";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../helpers/s3rver.js";
import { REPO_ROOT } from "../helpers/shared.js";
import { fileSha256, runCli, s3Env, sha256, treeOf } from "./run.js";

/** The glider CLI as a process, reading the DeltaGlider-written fixture bucket from a real S3 server (s3rver). */
describe("glider CLI: reading", () => {
  let s3: S3rverHandle;
  let store: ObjectStore;
  let env: Record<string, string>;
  let work: string;

  beforeAll(async () => {
    await ensureCliBuilt();
    s3 = await startS3rver();
    store = createS3StoreFor(s3);
    env = s3Env(s3);
    await loadBucketFixture(store, "fixture");
    work = await mkdtemp(join(tmpdir(), "glider-cli-read-"));
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await store?.close();
    await s3?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const byKey = new Map(expected.objects.map((o) => [o.key, o]));
  const unrestorable = expected.objects.filter((o) => !o.restorable).map((o) => o.key);

  it("ls -r --json lists every logical object with original and stored sizes", async () => {
    const { code, out, stderr } = await runCli(["ls", "-r", "--json", "s3://fixture/"], env);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const listing = JSON.parse(out);
    expect(listing.common_prefixes).toEqual([]);
    const want = [...expected.objects]
      .sort((a, b) => compareKeys(a.key, b.key))
      .map((o) => ({
        key: o.key,
        original_bytes: o.original_bytes,
        stored_bytes: o.stored_bytes_own,
        compressed: o.compressed,
      }));
    expect(listing.objects.map(({ modified: _, ...rest }: Record<string, unknown>) => rest)).toEqual(want);
    for (const o of listing.objects) expect(new Date(o.modified).toISOString()).toBe(o.modified);
    expect(listing.objects).toHaveLength(expected.totals.logical_objects);
  });

  it("ls --json lists one level: the root DeltaSpace's objects and the folders", async () => {
    const { code, out } = await runCli(["ls", "--json", "s3://fixture/"], env);
    expect(code).toBe(0);
    const listing = JSON.parse(out);
    expect(listing.objects.map((o: { key: string }) => o.key)).toEqual(expected.listings[""].objects);
    expect(listing.common_prefixes).toEqual(expected.listings[""].common_prefixes);
    for (const o of listing.objects) {
      expect(o.original_bytes).toBe(byKey.get(o.key)?.original_bytes);
      expect(o.stored_bytes).toBe(byKey.get(o.key)?.stored_bytes_own);
    }
  });

  it("ls prints the DeltaGlider CLI's lines with ORIGINAL sizes: PRE folders, then modified, size and name", async () => {
    const { code, out } = await runCli(["ls", "s3://fixture/apps/viewer/"], env);
    expect(code).toBe(0);
    const lines = out.trimEnd().split("\n");
    expect(lines).toHaveLength(expected.listings["apps/viewer/"].objects.length);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {4}1077265 viewer-4\.0\.0\.zip$/);
    const root = await runCli(["ls", "s3://fixture"], env);
    expect(root.out).toContain(`${" ".repeat(27)}PRE agents/\n`);
    expect(root.out).toMatch(/ {6}78571 site-2025-03\.zip\n/);
    // A prefix without its trailing slash is the same folder, as with the DeltaGlider CLI.
    expect((await runCli(["ls", "s3://fixture/apps/viewer"], env)).out).toBe(out);
  });

  it("ls of a missing bucket fails with bucket_not_found", async () => {
    const { code, errLines } = await runCli(["ls", "s3://no-such-bucket/"], env);
    expect(code).not.toBe(0);
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toMatch(/^bucket_not_found: /);
  });

  it("stats --detailed --json gives the exact bucket totals the DeltaGlider CLI's --detailed gives", async () => {
    const { code, out, stderr } = await runCli(["stats", "--detailed", "--no-cache", "--json", "s3://fixture"], env);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    // Recorded in the fixture's README: `deltaglider stats --detailed` reports these figures for this bucket.
    expect(JSON.parse(out)).toMatchObject({
      bucket: "fixture",
      mode: "detailed",
      object_count: 25,
      total_size: 8084849,
      compressed_size: 2561166,
      delta_objects: 16,
      direct_objects: 9,
      savings_pct: 68.32,
      original_size_exact: true,
      estimated_objects: 0,
      cached: false,
    });
    expect(expected.totals).toMatchObject({ original_bytes: 8084849, stored_bytes: 2561166, savings_pct: 68.32 });
  });

  it("cp downloads a delta reconstructed and verified, to a file, into a folder, or to stdout", async () => {
    const key = "apps/viewer/viewer-4.1.1.zip";
    const file = join(work, "viewer.zip");
    const toFile = await runCli(["cp", `s3://fixture/${key}`, file], env);
    expect(toFile.stderr).toBe("");
    expect(toFile.code).toBe(0);
    expect(toFile.out).toBe(`download: 's3://fixture/${key}' to '${file}' (${byKey.get(key)?.original_bytes} bytes)\n`);
    expect(await fileSha256(file)).toBe(byKey.get(key)?.sha256);

    const folder = join(work, "into");
    const intoFolder = await runCli(["cp", "--json", "s3://fixture/site-2025-04.zip", `${folder}/`], env);
    expect(intoFolder.code).toBe(0);
    const path = join(folder, "site-2025-04.zip");
    expect(JSON.parse(intoFolder.out)).toEqual({
      command: "cp",
      dry_run: false,
      operations: [
        {
          action: "download",
          source: "s3://fixture/site-2025-04.zip",
          destination: path,
          bytes: byKey.get("site-2025-04.zip")?.original_bytes,
          sha256: byKey.get("site-2025-04.zip")?.sha256,
        },
      ],
      failures: [],
      summary: { succeeded: 1, failed: 0, skipped: 0, bytes: byKey.get("site-2025-04.zip")?.original_bytes },
    });
    expect(await fileSha256(path)).toBe(byKey.get("site-2025-04.zip")?.sha256);

    const gz = "agents/linux-x64/agent-1.8.0.tar.gz";
    const toStdout = await runCli(["cp", `s3://fixture/${gz}`, "-"], env);
    expect(toStdout.code).toBe(0);
    expect(sha256(toStdout.stdout)).toBe(byKey.get(gz)?.sha256);
  });

  it("cp of a missing key fails with key_not_found and writes nothing", async () => {
    const file = join(work, "missing.zip");
    const { code, errLines } = await runCli(["cp", "s3://fixture/apps/viewer/nope.zip", file], env);
    expect(code).not.toBe(0);
    expect(errLines).toEqual([expect.stringMatching(/^key_not_found: /)]);
    expect(existsSync(file)).toBe(false);
  });

  it("cp -r downloads every restorable object, skips the unrestorable one cleanly and exits non-zero", async () => {
    const dir = join(work, "all");
    const { code, stdout, errLines } = await runCli(["cp", "-r", "s3://fixture/", `${dir}/`], env);
    expect(code).not.toBe(0);
    const restorable = expected.objects.filter((o) => o.restorable);
    expect(errLines).toEqual([
      ...unrestorable.map((k) => expect.stringMatching(new RegExp(`^integrity_failed: .*${k}`))),
      `cp: ${unrestorable.length} of ${restorable.filter((o) => !o.key.endsWith("/")).length + unrestorable.length} objects failed`,
    ]);
    for (const o of restorable) {
      if (o.key.endsWith("/")) continue;
      expect(await fileSha256(join(dir, o.key)), o.key).toBe(o.sha256);
    }
    expect(stdout.toString().trimEnd().split("\n")).toHaveLength(restorable.filter((o) => !o.key.endsWith("/")).length);
    // Exactly the restorable objects (the folder marker "incoming/" as a folder): no temp files, nothing partial.
    const files = new Set(restorable.map((o) => o.key));
    const folders = new Set<string>();
    for (const key of files) {
      const parts = key.split("/");
      for (let i = 1; i < parts.length; i++) folders.add(`${parts.slice(0, i).join("/")}/`);
    }
    expect(await treeOf(dir)).toEqual([...new Set([...files, ...folders])].sort());
    for (const k of unrestorable) expect(existsSync(join(dir, k))).toBe(false);
    expect(files.has("site-2025-03.zip") && files.has("site-2025-04.zip")).toBe(true);
  });

  it("cp -r below a prefix writes keys relative to it", async () => {
    const dir = join(work, "sdk");
    const { code, errLines } = await runCli(["cp", "-r", "-j", "2", "s3://fixture/sdk/2.3", dir], env);
    expect(errLines).toEqual([]);
    expect(code).toBe(0);
    expect(await treeOf(dir)).toEqual([
      "acme-sdk-2.3.0.zip",
      "acme-sdk-2.3.1.zip",
      "acme-sdk-2.3.2.zip",
      "acme-sdk-2.3.2.zip-manifest.json",
    ]);
    expect(await fileSha256(join(dir, "acme-sdk-2.3.2.zip"))).toBe(byKey.get("sdk/2.3/acme-sdk-2.3.2.zip")?.sha256);
  });

  it("cp -r of a folder-marker prefix gives the folder; a missing bucket creates nothing", async () => {
    const dir = join(work, "incoming");
    const marker = await runCli(["cp", "-r", "s3://fixture/incoming/", dir], env);
    expect(marker.stderr).toBe("");
    expect(marker.code).toBe(0);
    expect(await treeOf(dir)).toEqual([]);
    const missing = join(work, "missing-bucket");
    const nope = await runCli(["cp", "-r", "s3://no-such-bucket/", missing], env);
    expect(nope.code).toBe(1);
    expect(nope.errLines).toEqual([expect.stringMatching(/^bucket_not_found: /)]);
    expect(existsSync(missing)).toBe(false);
  });

  it("a corrupt delta fails cp with integrity_failed and leaves no output file", async () => {
    await loadBucketFixture(store, "corrupt");
    const key = "apps/viewer/viewer-4.0.1.zip";
    const got = await store.getObject({ bucket: "corrupt", key: `${key}.delta` });
    const bytes = Buffer.concat(await got.body.toArray());
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await store.putObject({ bucket: "corrupt", key: `${key}.delta`, body: bytes, metadata: got.head.metadata });

    const file = join(work, "corrupt.zip");
    const { code, errLines } = await runCli(["cp", `s3://corrupt/${key}`, file], env);
    expect(code).not.toBe(0);
    expect(errLines).toEqual([expect.stringMatching(/^integrity_failed: /)]);
    expect(existsSync(file)).toBe(false);
    expect((await treeOf(work)).filter((p) => p.includes("corrupt"))).toEqual([]);
  });

  it("rejects a bad environment with one invalid configuration line", async () => {
    const { code, errLines, out } = await runCli(["ls", "s3://fixture/"], { ...env, STORAGE: "nope" });
    expect(code).not.toBe(0);
    expect(out).toBe("");
    expect(errLines).toEqual([expect.stringMatching(/^invalid configuration: STORAGE: /)]);
  });

  it.each([
    [["cp", "s3://fixture/README.txt"]],
    [["frobnicate"]],
    [["ls", "--bogus"]],
    [["stats", "-r", "s3://fixture"]],
    [["ls", "fixture"]],
    [[]],
  ])("usage errors (%j) exit 2 with one invalid_request line", async (args) => {
    const { code, errLines } = await runCli(args, env);
    expect(code).toBe(2);
    expect(errLines).toEqual([expect.stringMatching(/^invalid_request: /)]);
  });

  it("bin/glider.js launches the compiled CLI and passes its exit status on", async () => {
    const entry = [join(REPO_ROOT, "bin/glider.js")];
    const help = await runCli(["--help"], env, { entry });
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: glider \[options\] \[command\]/);
    const version = await runCli(["--version"], env, { entry });
    expect(version.out).toBe(`glider ${JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")).version}\n`);
    expect(await readFile(join(REPO_ROOT, "bin/glider.js"), "utf8")).toContain("dist/bundle/cli.cjs");
    const readme = await runCli(["cp", "s3://fixture/README.txt", "-"], env, { entry });
    expect(readme.code).toBe(0);
    expect(sha256(readme.stdout)).toBe(byKey.get("README.txt")?.sha256);
    const bad = await runCli(["ls"], { ...env, STORAGE: "nope" }, { entry });
    expect(bad.code).toBe(1);
    expect(bad.errLines).toEqual([expect.stringMatching(/^invalid configuration: STORAGE/)]);
    expect(await readFile(join(REPO_ROOT, "bin/glider.js"), "utf8")).toMatch(/^#!\/usr\/bin\/env node/);
  });
});
