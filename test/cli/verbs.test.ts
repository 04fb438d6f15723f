import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../helpers/s3rver.js";
import { CLI_BACKENDS, fileSha256, runCli, sha256, treeOf } from "./run.js";

async function physicalKeys(store: ObjectStore, bucket: string, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await store.listObjects({ bucket, prefix, continuationToken });
    keys.push(...page.objects.map((o) => o.key));
    continuationToken = page.nextContinuationToken;
  } while (continuationToken);
  return keys.sort();
}

/** A release-like archive and `n - 1` slightly changed next versions of it. */
function versions(size: number, n: number): Buffer[] {
  const out = [randomBytes(size)];
  for (let v = 1; v < n; v++) {
    const next = Buffer.from(out[v - 1]);
    for (let i = 0; i < 16; i++) next[Math.floor(((i + v) * size) / 17)] ^= 0x5a;
    out.push(next);
  }
  return out;
}

async function writeTree(root: string, files: Record<string, Buffer | string>) {
  for (const [rel, bytes] of Object.entries(files)) {
    await mkdir(join(root, rel, ".."), { recursive: true });
    await writeFile(join(root, rel), bytes);
  }
}

const TRANSFER_SHAPE = ["command", "dry_run", "failures", "operations", "summary"];

/** Every verb and flag of the compiled `glider`, as a process, on the filesystem store and on a real S3 server. */
// Each test runs a dozen CLI processes: on a loaded 2-core machine that can take a while.
describe.each(CLI_BACKENDS)("glider verbs on the $name", { timeout: 240_000 }, (backend) => {
  let env: Record<string, string>;
  let store: ObjectStore;
  let stop: () => Promise<void>;
  let work: string;
  const glider = (args: string[], options: { stdin?: Buffer; cwd?: string } = {}) => runCli(args, env, options);

  beforeAll(async () => {
    await ensureCliBuilt();
    ({ env, store, stop } = await backend.setup());
    work = await mkdtemp(join(tmpdir(), "glider-cli-verbs-"));
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await stop?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("ls: buckets without Send's, original sizes, -h, --summarize, and every page past 1,000 keys", async () => {
    await store.createBucket("lsb");
    await store.createBucket("glider-system");
    const [v1, v2] = versions(200_000, 2);
    await writeTree(join(work, "ls"), { "r/app-1.zip": v1, "r/app-2.zip": v2, "r/notes.txt": "x".repeat(3000) });
    expect((await glider(["cp", "-r", "-q", join(work, "ls"), "s3://lsb/"])).code).toBe(0);
    const buckets = await glider(["ls"]);
    expect(buckets.code).toBe(0);
    expect(buckets.out).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}s3:\/\/lsb$/m);
    expect(buckets.out).not.toContain("glider-system");

    const plain = await glider(["ls", "s3://lsb/r/"]);
    expect(plain.out.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(/ {4}200000 app-1\.zip$/),
      expect.stringMatching(/ {4}200000 app-2\.zip$/),
      expect.stringMatching(/ {6}3000 notes\.txt$/),
    ]);
    const human = await glider(["ls", "-h", "--summarize", "s3://lsb/r"]);
    expect(human.out).toMatch(/ {3}195\.3K app-1\.zip\n/);
    expect(human.out).toMatch(/ {5}2\.9K notes\.txt\n/);
    expect(human.out.endsWith("\nTotal Objects: 3\n   Total Size:  393.6K\n")).toBe(true);
    const rec = await glider(["ls", "-r", "--summarize", "s3://lsb/"]);
    expect(rec.out).toMatch(/ r\/app-2\.zip\n/);
    expect(rec.out).toContain("Total Objects: 3\n   Total Size: 403000\n");

    await store.createBucket("many");
    const keys = Array.from({ length: 1105 }, (_, i) => `k/${String(i).padStart(5, "0")}.txt`);
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(
        keys.slice(i, i + 100).map((key) => store.putObject({ bucket: "many", key, body: Buffer.from(key) })),
      );
    }
    const many = JSON.parse((await glider(["ls", "--json", "s3://many/k/"])).out);
    expect(many.objects).toHaveLength(1105);
    expect(many.summary).toEqual({ objects: 1105, original_bytes: 1105 * 11, stored_bytes: 1105 * 11 });
  });

  it("cp: trailing-slash folders keep every component, non-ASCII names, --no-delta, --max-ratio, -q", async () => {
    await store.createBucket("cpb");
    const [v1, v2] = versions(150_000, 2);
    await writeTree(join(work, "cp"), { "f.zip": v1, "g.zip": v2, "café ü.txt": "non-ascii\n", "p.zip": v1 });
    const into = await glider(["cp", join(work, "cp", "f.zip"), "s3://cpb/dir/sub/"]);
    expect(into.code).toBe(0);
    expect(into.out).toBe(
      `upload: '${join(work, "cp", "f.zip")}' to 's3://cpb/dir/sub/f.zip' (reference: 150000 bytes)\n`,
    );
    const quiet = await glider(["cp", "-q", join(work, "cp", "g.zip"), "s3://cpb/dir/sub/"]);
    expect([quiet.code, quiet.out, quiet.stderr]).toEqual([0, "", ""]);
    const named = await glider(["cp", join(work, "cp", "café ü.txt"), "s3://cpb/dir/sub/ünï.txt"]);
    expect(named.code).toBe(0);
    expect(await physicalKeys(store, "cpb")).toEqual([
      "dir/sub/f.zip.delta",
      "dir/sub/g.zip.delta",
      "dir/sub/reference.bin",
      "dir/sub/ünï.txt",
    ]);
    const back = join(work, "cp-back");
    expect((await glider(["cp", "s3://cpb/dir/sub/ünï.txt", `${back}/`])).code).toBe(0);
    expect(await readFile(join(back, "ünï.txt"), "utf8")).toBe("non-ascii\n");

    const plain = JSON.parse(
      (await glider(["cp", "--json", "--no-delta", join(work, "cp", "p.zip"), "s3://cpb/plain/"])).out,
    );
    expect(plain.operations[0]).toMatchObject({ stored_as: "plain", bytes: 150_000, stored_bytes: 150_000 });
    expect(await physicalKeys(store, "cpb", "plain/")).toEqual(["plain/p.zip"]);
    expect((await store.headObject("cpb", "plain/p.zip")).metadata).toEqual({});

    // A delta that does not pay (delta/file above --max-ratio) is stored as a direct file.
    const unrelated = randomBytes(100_000);
    await writeFile(join(work, "cp", "other.zip"), unrelated);
    const ratio = JSON.parse(
      (await glider(["cp", "--json", "--max-ratio", "0.2", join(work, "cp", "other.zip"), "s3://cpb/dir/sub/"])).out,
    );
    expect(ratio.operations[0]).toMatchObject({ stored_as: "direct", bytes: 100_000 });
    expect((await glider(["cp", "--max-ratio", "2", join(work, "cp", "f.zip"), "s3://cpb/x/"])).code).toBe(2);
  });

  it("cp -r: a bucket whose root is a DeltaSpace copies completely; --include/--exclude; -j; s3-to-s3", async () => {
    await store.createBucket("rootds");
    const v = versions(100_000, 3);
    await writeTree(join(work, "rootds"), {
      "a-1.zip": v[0],
      "a-2.zip": v[1],
      "a-3.zip": v[2],
      "readme.txt": "root\n",
      "logs/x.log": "log\n",
      "sub/b.zip": v[0],
    });
    const up = await glider(["cp", "-r", "-j", "3", "--exclude", "*.log", join(work, "rootds"), "s3://rootds/"]);
    expect(up.code).toBe(0);
    expect(await physicalKeys(store, "rootds")).toEqual([
      "a-1.zip.delta",
      "a-2.zip.delta",
      "a-3.zip.delta",
      "readme.txt",
      "reference.bin",
      "sub/b.zip.delta",
      "sub/reference.bin",
    ]);
    const down = join(work, "rootds-down");
    const all = await glider(["cp", "-r", "s3://rootds/", down]);
    expect(all.code).toBe(0);
    expect(await treeOf(down)).toEqual(["a-1.zip", "a-2.zip", "a-3.zip", "readme.txt", "sub/", "sub/b.zip"]);
    expect(await fileSha256(join(down, "a-3.zip"))).toBe(sha256(v[2]));
    const only = join(work, "rootds-only");
    expect((await glider(["cp", "-r", "--include", "a-*", "--exclude", "*3.zip", "s3://rootds/", only])).code).toBe(0);
    expect(await treeOf(only)).toEqual(["a-1.zip", "a-2.zip"]);

    await store.createBucket("copyto");
    const copy = JSON.parse((await glider(["cp", "-r", "--json", "s3://rootds/sub/", "s3://copyto/"])).out);
    expect(copy.operations.map((o: { destination: string }) => o.destination)).toEqual(["s3://copyto/sub/b.zip"]);
    const one = await glider(["cp", "s3://rootds/a-2.zip", "s3://copyto/x/"]);
    expect(one.code).toBe(0);
    const check = await glider(["cp", "s3://copyto/x/a-2.zip", "-"]);
    expect(sha256(check.stdout)).toBe(sha256(v[1]));
  });

  it("rm: --dryrun deletes nothing, -q prints nothing, -r takes the references nothing needs", async () => {
    await store.createBucket("rmb");
    const v = versions(60_000, 2);
    await writeTree(join(work, "rm"), { "d/a.zip": v[0], "d/b.zip": v[1], "d/c.txt": "c", "e.txt": "e" });
    expect((await glider(["cp", "-r", "-q", join(work, "rm"), "s3://rmb/"])).code).toBe(0);
    const before = await physicalKeys(store, "rmb");
    const dry = await glider(["rm", "-r", "--dryrun", "s3://rmb/d"]);
    expect(dry.code).toBe(0);
    expect(dry.out).toBe(
      ["s3://rmb/d/a.zip", "s3://rmb/d/b.zip", "s3://rmb/d/c.txt"].map((u) => `(dryrun) delete: ${u}\n`).join(""),
    );
    expect(await physicalKeys(store, "rmb")).toEqual(before);
    const single = await glider(["rm", "-q", "s3://rmb/d/a.zip"]);
    expect([single.code, single.out]).toEqual([0, ""]);
    expect(await physicalKeys(store, "rmb")).toEqual(["d/b.zip.delta", "d/c.txt", "d/reference.bin", "e.txt"]);
    const folder = await glider(["rm", "s3://rmb/d/"]);
    expect(folder.code).toBe(2);
    const json = JSON.parse((await glider(["rm", "-r", "--json", "s3://rmb/d/"])).out);
    expect(Object.keys(json).sort()).toEqual([...TRANSFER_SHAPE, "physical_keys"].sort());
    expect(json.physical_keys.sort()).toEqual(["d/b.zip.delta", "d/c.txt", "d/reference.bin"]);
    expect(await physicalKeys(store, "rmb")).toEqual(["e.txt"]);
  });

  it("sync up: new, resized and newer files; unchanged ones skipped; --size-only, --dryrun, --delete, filters", async () => {
    await store.createBucket("syncup");
    const src = join(work, "sync-src");
    await writeTree(src, { "a.txt": "aaaa", "b/c.txt": "cccc", "skip.log": "log", "v.zip": versions(50_000, 1)[0] });
    const first = JSON.parse((await glider(["sync", "--json", "--exclude", "*.log", src, "s3://syncup/p/"])).out);
    expect(Object.keys(first).sort()).toEqual(TRANSFER_SHAPE);
    expect(first.operations.map((o: { destination: string }) => o.destination).sort()).toEqual([
      "s3://syncup/p/a.txt",
      "s3://syncup/p/b/c.txt",
      "s3://syncup/p/v.zip",
    ]);
    const again = await glider(["sync", "--exclude", "*.log", src, "s3://syncup/p/"]);
    expect(again.out).toBe("Sync completed: already up to date\n");

    // Same size, newer: transferred unless --size-only; another size: always.
    const future = new Date(Date.now() + 120_000);
    await utimes(join(src, "a.txt"), future, future);
    const sizeOnly = JSON.parse(
      (await glider(["sync", "--json", "--size-only", "--exclude", "*.log", src, "s3://syncup/p/"])).out,
    );
    expect(sizeOnly.operations).toEqual([]);
    expect(sizeOnly.summary.skipped).toBe(3);
    await writeFile(join(src, "b/c.txt"), "cccccc");
    const dry = await glider(["sync", "--dryrun", "--exclude", "*.log", src, "s3://syncup/p/"]);
    expect(dry.out.split("\n").filter(Boolean).sort()).toEqual([
      `(dryrun) upload: ${join(src, "a.txt")} to s3://syncup/p/a.txt`,
      `(dryrun) upload: ${join(src, "b/c.txt")} to s3://syncup/p/b/c.txt`,
    ]);
    const changed = JSON.parse((await glider(["sync", "--json", "--exclude", "*.log", src, "s3://syncup/p/"])).out);
    expect(changed.operations.map((o: { destination: string }) => o.destination).sort()).toEqual([
      "s3://syncup/p/a.txt",
      "s3://syncup/p/b/c.txt",
    ]);
    await rm(join(src, "a.txt"));
    const quiet = await glider(["sync", "-q", "--delete", "--include", "*.txt", src, "s3://syncup/p/"]);
    expect([quiet.code, quiet.out]).toEqual([0, ""]);
    // --delete only within what the filters select: v.zip stays.
    expect(await physicalKeys(store, "syncup")).toEqual(["p/b/c.txt", "p/reference.bin", "p/v.zip.delta"]);
  });

  it("sync down: downloads, sets modification times so a second sync does nothing, --delete removes local extras", async () => {
    await store.createBucket("syncdown");
    const src = join(work, "syncdown-src");
    const v = versions(80_000, 2);
    await writeTree(src, { "r/1.zip": v[0], "r/2.zip": v[1], "r/n.txt": "n" });
    expect((await glider(["sync", "-q", src, "s3://syncdown/"])).code).toBe(0);
    const dest = join(work, "syncdown-dest");
    await writeTree(dest, { "extra.txt": "x", "r/n.txt": "different size" });
    const first = JSON.parse((await glider(["sync", "--json", "s3://syncdown/", dest])).out);
    expect(
      first.operations.map((o: { action: string; destination: string }) => [o.action, o.destination]).sort(),
    ).toEqual([
      ["download", join(dest, "r/1.zip")],
      ["download", join(dest, "r/2.zip")],
      ["download", join(dest, "r/n.txt")],
    ]);
    expect(await fileSha256(join(dest, "r/2.zip"))).toBe(sha256(v[1]));
    const remoteTime = (await store.headObject("syncdown", "r/n.txt")).lastModified.getTime();
    expect(Math.floor((await stat(join(dest, "r/n.txt"))).mtimeMs / 1000)).toBe(Math.floor(remoteTime / 1000));
    expect((await glider(["sync", "s3://syncdown/", dest])).out).toBe("Sync completed: already up to date\n");
    const dry = await glider(["sync", "--dryrun", "--delete", "s3://syncdown/", dest]);
    expect(dry.out).toBe(`(dryrun) delete: ${join(dest, "extra.txt")}\n`);
    expect(existsSync(join(dest, "extra.txt"))).toBe(true);
    expect((await glider(["sync", "-q", "--delete", "s3://syncdown/", dest])).code).toBe(0);
    expect(await treeOf(dest)).toEqual(["r/", "r/1.zip", "r/2.zip", "r/n.txt"]);
  });

  it("migrate: dry run, confirmation, resumes without redoing work, keeps or drops the source folder name", async () => {
    await store.createBucket("legacy");
    await store.createBucket("dgdest");
    const v = versions(120_000, 3);
    for (const [i, bytes] of v.entries()) {
      await store.putObject({ bucket: "legacy", key: `builds/app-${i}.zip`, body: bytes });
    }
    await store.putObject({ bucket: "legacy", key: "builds/notes.txt", body: Buffer.from("notes") });
    const dry = await glider(["migrate", "--dry-run", "s3://legacy/builds/", "s3://dgdest/"]);
    expect(dry.out.split("\n").filter(Boolean)).toEqual(
      ["app-0.zip", "app-1.zip", "app-2.zip", "notes.txt"].map(
        (n) => `(dryrun) migrate: s3://legacy/builds/${n} to s3://dgdest/builds/${n}`,
      ),
    );
    const no = await glider(["migrate", "s3://legacy/builds/", "s3://dgdest/"], { stdin: Buffer.from("n\n") });
    expect([no.code, no.out]).toEqual([0, "Migration cancelled.\n"]);
    const eof = await glider(["migrate", "s3://legacy/builds/", "s3://dgdest/"]);
    expect(eof.code).toBe(1);
    expect(await physicalKeys(store, "dgdest")).toEqual([]);

    // An interrupted migration (here: the first part only) resumes: present objects are skipped, not redone.
    const part = JSON.parse(
      (await glider(["migrate", "-y", "--json", "--include", "app-0.zip", "s3://legacy/builds/", "s3://dgdest/"])).out,
    );
    expect(part.summary).toMatchObject({ succeeded: 1, skipped: 0 });
    const reference = await store.headObject("dgdest", "builds/reference.bin");
    const rest = JSON.parse((await glider(["migrate", "--yes", "--json", "s3://legacy/builds/", "s3://dgdest/"])).out);
    expect(rest.summary).toMatchObject({ succeeded: 3, skipped: 1, failed: 0 });
    expect(
      rest.operations.map((o: { stored_as: string; destination: string }) => [o.destination, o.stored_as]).sort(),
    ).toEqual([
      ["s3://dgdest/builds/app-1.zip", "delta"],
      ["s3://dgdest/builds/app-2.zip", "delta"],
      ["s3://dgdest/builds/notes.txt", "direct"],
    ]);
    expect((await store.headObject("dgdest", "builds/reference.bin")).etag).toBe(reference.etag);
    const done = await glider(["migrate", "-y", "s3://legacy/builds/", "s3://dgdest/"]);
    expect(done.out).toBe("All files are already migrated. Nothing to do.\n");
    const down = await glider(["cp", "s3://dgdest/builds/app-2.zip", "-"]);
    expect(sha256(down.stdout)).toBe(sha256(v[2]));

    const flat = JSON.parse(
      (
        await glider([
          "migrate",
          "-y",
          "--json",
          "--no-preserve-prefix",
          "--no-delta",
          "--exclude",
          "*.txt",
          "s3://legacy/builds/",
          "s3://dgdest/flat/",
        ])
      ).out,
    );
    expect(
      flat.operations.map((o: { destination: string; stored_as: string }) => [o.destination, o.stored_as]),
    ).toEqual(expect.arrayContaining([["s3://dgdest/flat/app-0.zip", "plain"]]));
    expect(await physicalKeys(store, "dgdest", "flat/")).toEqual([
      "flat/app-0.zip",
      "flat/app-1.zip",
      "flat/app-2.zip",
    ]);
  });

  it("verify: the DeltaGlider CLI's JSON; a damaged delta is valid: false with exit 1", async () => {
    await store.createBucket("ver");
    const v = versions(90_000, 2);
    await writeTree(join(work, "ver"), { "a.zip": v[0], "b.zip": v[1] });
    expect((await glider(["cp", "-r", "-q", join(work, "ver"), "s3://ver/"])).code).toBe(0);
    const ok = await glider(["verify", "s3://ver/b.zip"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toEqual({
      valid: true,
      expected_sha256: sha256(v[1]),
      actual_sha256: sha256(v[1]),
      message: "delta object verified: 90000 bytes, sha256 matches",
    });
    // Same metadata, another delta: it decodes, but to other bytes.
    const good = await store.headObject("ver", "b.zip.delta");
    const other = await store.getObject({ bucket: "ver", key: "a.zip.delta" });
    const chunks: Buffer[] = [];
    for await (const c of other.body) chunks.push(c as Buffer);
    await store.putObject({ bucket: "ver", key: "b.zip.delta", body: Buffer.concat(chunks), metadata: good.metadata });
    const bad = await glider(["verify", "s3://ver/b.zip"]);
    expect(bad.code).toBe(1);
    const result = JSON.parse(bad.out);
    expect(result).toMatchObject({ valid: false, expected_sha256: sha256(v[1]) });
    expect(result.message).toMatch(/sha256|size|bytes/i);
    expect((await glider(["verify", "s3://ver/"])).code).toBe(2);
  });

  it("stats: quick and sampled are labelled estimates, detailed is exact; cached until the bucket changes", async () => {
    await store.createBucket("stats-b");
    const v = versions(100_000, 3);
    await writeTree(join(work, "stats-b"), {
      "a/1.zip": v[0],
      "a/2.zip": v[1],
      "a/3.zip": v[2],
      "t.txt": "t".repeat(500),
    });
    expect((await glider(["cp", "-r", "-q", join(work, "stats-b"), "s3://stats-b/"])).code).toBe(0);
    const cacheHome = await mkdtemp(join(tmpdir(), "glider-cache-"));
    const run = (args: string[]) =>
      runCli(["stats", "--json", ...args, "stats-b"], { ...env, XDG_CACHE_HOME: cacheHome });
    const detailed = JSON.parse((await run(["--detailed"])).out);
    expect(detailed).toMatchObject({
      mode: "detailed",
      object_count: 4,
      total_size: 300_500,
      delta_objects: 3,
      direct_objects: 1,
      reference_objects: 1,
      original_size_exact: true,
      cached: false,
    });
    expect((await run(["--detailed"])).out).toContain('"cached": true');
    expect(JSON.parse((await run(["--detailed", "--refresh"])).out).cached).toBe(false);
    expect(JSON.parse((await run(["--detailed", "--no-cache"])).out).cached).toBe(false);
    const quick = JSON.parse((await run(["--no-cache"])).out);
    expect(quick).toMatchObject({
      mode: "quick",
      original_size_exact: false,
      estimated_objects: 3,
      total_size: 300_500,
    });
    const sampled = JSON.parse((await run(["--sampled", "--no-cache"])).out);
    expect(sampled).toMatchObject({
      mode: "sampled",
      original_size_exact: false,
      estimated_objects: 2,
      total_size: 300_500,
    });
    expect(quick.compressed_size).toBe(detailed.compressed_size);
    // A change to the bucket invalidates the cached figures.
    expect((await glider(["rm", "-q", "s3://stats-b/t.txt"])).code).toBe(0);
    expect(JSON.parse((await run(["--detailed"])).out)).toMatchObject({ cached: false, object_count: 3 });
    const human = await runCli(["stats", "--no-cache", "s3://stats-b"], env);
    expect(human.out).toMatch(
      /^Original Size: .*estimated: 3 delta sizes not read, use --detailed for exact figures\)$/m,
    );
    expect((await glider(["stats", "--sampled", "--detailed", "stats-b"])).code).toBe(2);
    expect((await glider(["stats", "--refresh", "--no-cache", "stats-b"])).code).toBe(2);
    await rm(cacheHome, { recursive: true, force: true });
  });

  it("purge: only expired .deltaglider/tmp/ copies go; --dry-run deletes nothing; --json", async () => {
    await store.createBucket("purge-b");
    const put = (key: string, metadata: Record<string, string>) =>
      store.putObject({ bucket: "purge-b", key, body: Buffer.from("0123456789"), metadata });
    await put(".deltaglider/tmp/aa_old.zip", { "dg-expires-at": "2020-01-01T00:00:00" });
    await put(".deltaglider/tmp/bb_oldz.zip", { "dg-expires-at": "2021-01-01T00:00:00Z" });
    await put(".deltaglider/tmp/cc_new.zip", { "dg-expires-at": "2999-01-01T00:00:00" });
    await put(".deltaglider/tmp/dd_none.zip", {});
    await put("keep.txt", {});
    const dry = JSON.parse((await glider(["purge", "--dry-run", "--json", "purge-b"])).out);
    expect(dry).toMatchObject({
      dry_run: true,
      scanned_count: 4,
      expired_count: 2,
      deleted_count: 0,
      total_size_freed: 20,
    });
    expect(await physicalKeys(store, "purge-b")).toHaveLength(5);
    const real = await glider(["purge", "s3://purge-b"]);
    expect(real.code).toBe(0);
    expect(real.out).toMatch(/Files deleted: +2\n/);
    expect(await physicalKeys(store, "purge-b")).toEqual([
      ".deltaglider/tmp/cc_new.zip",
      ".deltaglider/tmp/dd_none.zip",
      "keep.txt",
    ]);
  });

  it("get-bucket-acl / put-bucket-acl", async () => {
    await store.createBucket("aclb");
    const get = await glider(["get-bucket-acl", "s3://aclb"]);
    if (backend.name === "fs store") {
      expect(get.code).toBe(0);
      expect(JSON.parse(get.out).Grants).toEqual([expect.objectContaining({ Permission: "FULL_CONTROL" })]);
      expect((await glider(["put-bucket-acl", "aclb", "--acl", "private"])).out).toBe("ACL updated for bucket: aclb\n");
      const pub = await glider(["put-bucket-acl", "aclb", "--acl", "public-read"]);
      expect(pub.code).toBe(1);
      expect(pub.errLines).toEqual([expect.stringMatching(/^unsupported: /)]);
    } else {
      // s3rver answers NotImplemented to ?acl: the request went out through the SDK and the answer is mapped.
      expect(get.code).toBe(1);
      expect(get.errLines).toEqual([expect.stringMatching(/^unsupported: .*NotImplemented/)]);
    }
    expect((await glider(["get-bucket-acl", "no-such-bucket"])).errLines).toEqual([
      expect.stringMatching(/^(bucket_not_found|unsupported): /),
    ]);
    expect((await glider(["put-bucket-acl", "aclb", "--acl", "everyone"])).code).toBe(2);
    expect((await glider(["put-bucket-acl", "aclb"])).code).toBe(2);
  });

  it("exit codes: 2 for usage errors, 1 with a summary when an object failed", async () => {
    for (const args of [
      ["cp", "-j", "0", "a", "s3://x/"],
      ["ls", "--bogus"],
      ["sync", "a", "b"],
      ["migrate", "a", "s3://x/"],
      ["frob"],
      [],
    ]) {
      const r = await glider(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.errLines, args.join(" ")).toEqual([expect.stringMatching(/^invalid_request: /)]);
    }
    await store.createBucket("fails");
    await writeTree(join(work, "fails"), { "ok.txt": "ok", "bad.delta": "x" });
    const r = await glider(["cp", "-r", join(work, "fails"), "s3://fails/"]);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([expect.stringMatching(/^invalid_key: .*bad\.delta/), "cp: 1 of 2 objects failed"]);
  });
});

describe("glider connection flags", () => {
  let s3: S3rverHandle;
  let work: string;
  beforeAll(async () => {
    await ensureCliBuilt();
    s3 = await startS3rver();
    const store = createS3StoreFor(s3);
    await store.createBucket("flags");
    await store.close();
    work = await mkdtemp(join(tmpdir(), "glider-cli-flags-"));
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await s3?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("--endpoint-url, --region and --profile connect without the Glider environment", async () => {
    const credentials = join(work, "aws-credentials");
    await writeFile(
      credentials,
      `[bench]\naws_access_key_id = ${s3.credentials.accessKeyId}\naws_secret_access_key = ${s3.credentials.secretAccessKey}\n`,
    );
    const bare = {
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: join(work, "none"),
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
    };
    const r = await runCli(["ls", "--endpoint-url", s3.endpoint, "--region", s3.region, "--profile", "bench"], bare);
    expect(r.errLines).toEqual([]);
    expect(r.out).toMatch(/ s3:\/\/flags$/m);
    const wrong = await runCli(["ls", "--endpoint-url", s3.endpoint, "--profile", "nobody"], bare);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toBe("");
  });
});
