import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeltaGlider, type DeltaGlider } from "../../../src/services/deltaglider/index.js";
import { readDgMetadata } from "../../../src/services/deltaglider/metadata.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { BACKENDS, type BackendHandle } from "../../helpers/backends.js";
import { releaseVersions, sha256 } from "../../helpers/releases.js";
import { settled } from "../../helpers/settle.js";
import { hasXdelta3 } from "../../helpers/tools.js";

async function bytesOf(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function physicalKeys(handle: BackendHandle, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await handle.store.listObjects({ bucket, continuationToken });
    keys.push(...page.objects.map((o) => o.key));
    continuationToken = page.nextContinuationToken;
  } while (continuationToken);
  return keys;
}

const REQUIRED_DELTA_KEYS = [
  "dg-tool",
  "dg-original-name",
  "dg-file-sha256",
  "dg-file-size",
  "dg-created-at",
  "dg-ref-key",
  "dg-ref-sha256",
  "dg-delta-size",
  "dg-delta-cmd",
];

describe.each(BACKENDS)("DeltaGlider upload, download and delete on $name", (backend) => {
  let handle: BackendHandle;
  let dg: DeltaGlider;
  const versions = releaseVersions(300_000, 3);
  beforeAll(async () => {
    handle = await backend.create();
    dg = createDeltaGlider(handle.store, createMetrics(), { encodeThreads: 1 });
    await handle.store.createBucket("uploads");
  });
  afterAll(async () => {
    await dg.close();
    await handle.cleanup();
  });

  it("stores the first candidate as reference + zero-diff delta, later ones as deltas", async () => {
    const first = await dg.upload("uploads", "rel/app-1.0.zip", versions[0]);
    expect(first).toMatchObject({ storedAs: "reference", physicalKey: "rel/app-1.0.zip.delta" });
    expect(first.storedBytes).toBeLessThan(200);
    const second = await dg.upload("uploads", "rel/app-1.1.zip", versions[1]);
    expect(second).toMatchObject({ storedAs: "delta", originalBytes: versions[1].length });
    expect(second.storedBytes).toBeLessThan(versions[1].length / 20);
    expect(await physicalKeys(handle, "uploads")).toEqual([
      "rel/app-1.0.zip.delta",
      "rel/app-1.1.zip.delta",
      "rel/reference.bin",
    ]);

    const ref = await handle.store.headObject("uploads", "rel/reference.bin");
    expect(readDgMetadata(ref.metadata)).toMatchObject({ fileSha256: sha256(versions[0]), note: "reference" });
    const delta = await handle.store.headObject("uploads", "rel/app-1.1.zip.delta");
    for (const key of REQUIRED_DELTA_KEYS) expect(delta.metadata[key], key).toBeTruthy();
    expect(delta.metadata["dg-ref-key"]).toBe("rel/reference.bin");
    expect(delta.metadata["dg-file-size"]).toBe(String(versions[1].length));
    expect(delta.metadata["dg-delta-size"]).toBe(String(delta.size));
    expect(delta.metadata["dg-created-at"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);

    for (const [key, bytes] of [
      ["rel/app-1.0.zip", versions[0]],
      ["rel/app-1.1.zip", versions[1]],
    ] as const) {
      const r = await dg.open("uploads", key);
      expect(sha256(await bytesOf(r.body))).toBe(sha256(bytes));
    }
  });

  it("stores non-candidates as direct files with both metadata spellings", async () => {
    const text = Buffer.from("sha256 checksums\n");
    const result = await dg.upload("uploads", "rel/app-1.1.zip.sha256", text);
    expect(result).toMatchObject({
      storedAs: "direct",
      physicalKey: "rel/app-1.1.zip.sha256",
      storedBytes: text.length,
    });
    const head = await handle.store.headObject("uploads", "rel/app-1.1.zip.sha256");
    expect(head.metadata).toMatchObject({ "dg-compression": "none", compression: "none" });
    expect(head.metadata["dg-created-at"]).not.toMatch(/Z$/);
    expect((await bytesOf((await dg.open("uploads", "rel/app-1.1.zip.sha256")).body)).toString()).toBe(text.toString());
  });

  it("falls back to a direct file when the delta does not pay (max-ratio guard)", async () => {
    const unrelated = releaseVersions(100_000, 1, 99)[0];
    const result = await dg.upload("uploads", "rel/other.zip", unrelated);
    expect(result.storedAs).toBe("direct");
    expect(await physicalKeys(handle, "uploads")).toContain("rel/other.zip");
    expect(await physicalKeys(handle, "uploads")).not.toContain("rel/other.zip.delta");
    expect(sha256(await bytesOf((await dg.open("uploads", "rel/other.zip")).body))).toBe(sha256(unrelated));
  });

  it("overwrites a logical key cleanly, whichever form it had", async () => {
    await dg.upload("uploads", "rel/app-1.1.zip", versions[2]);
    expect(sha256(await bytesOf((await dg.open("uploads", "rel/app-1.1.zip")).body))).toBe(sha256(versions[2]));
    // delta → direct (unrelated bytes) removes the stale .delta; direct → delta removes the stale direct file.
    const unrelated = releaseVersions(50_000, 1, 1234)[0];
    await dg.upload("uploads", "rel/app-1.1.zip", unrelated);
    expect(await physicalKeys(handle, "uploads")).not.toContain("rel/app-1.1.zip.delta");
    await dg.upload("uploads", "rel/app-1.1.zip", versions[1]);
    const keys = await physicalKeys(handle, "uploads");
    expect(keys).toContain("rel/app-1.1.zip.delta");
    expect(keys).not.toContain("rel/app-1.1.zip");
    expect((await dg.list("uploads", "rel/")).objects.filter((o) => o.key === "rel/app-1.1.zip")).toHaveLength(1);
  });

  it("encodes a new version while its body still arrives, and keeps nothing of a body that breaks off", async () => {
    await dg.upload("uploads", "slow/app-1.0.zip", versions[0]);
    const trickle = async function* (bytes: Buffer, failAfter?: number) {
      for (let at = 0; at < bytes.length; at += 16_384) {
        if (failAfter !== undefined && at >= failAfter) throw new Error("client went away");
        await settled(); // each chunk in its own event-loop turn, as from a socket
        yield bytes.subarray(at, at + 16_384);
      }
    };
    const stored = await dg.upload("uploads", "slow/app-1.1.zip", Readable.from(trickle(versions[1])));
    expect(stored).toMatchObject({ storedAs: "delta", originalBytes: versions[1].length, sha256: sha256(versions[1]) });
    expect(stored.storedBytes).toBeLessThan(versions[1].length / 20);
    expect(await bytesOf((await dg.open("uploads", "slow/app-1.1.zip")).body)).toEqual(versions[1]);

    await expect(
      dg.upload("uploads", "slow/app-1.2.zip", Readable.from(trickle(versions[2], 100_000))),
    ).rejects.toThrow(/client went away/);
    expect(await physicalKeys(handle, "uploads")).not.toContain("slow/app-1.2.zip.delta");
    await dg.deletePrefix("uploads", "slow/");
  });

  it("refuses keys that collide with the storage scheme", async () => {
    for (const key of ["a/reference.bin", "a/b.delta", ".deltaglider/x.zip", "a//b.zip", "folder/"]) {
      await expect(dg.upload("uploads", key, Buffer.from("x"))).rejects.toMatchObject({ code: "invalid_key" });
    }
    await expect(dg.upload("no-such-bucket", "a.zip", Buffer.from("x"))).rejects.toMatchObject({
      code: "bucket_not_found",
    });
  });

  it("deletes logical keys and removes the reference with the last delta", async () => {
    await expect(dg.deleteObject("uploads", "rel/missing.zip")).rejects.toMatchObject({ code: "key_not_found" });
    await dg.deleteObject("uploads", "rel/app-1.0.zip");
    expect(await physicalKeys(handle, "uploads")).toContain("rel/reference.bin");
    await dg.deleteObject("uploads", "rel/app-1.1.zip");
    const keys = await physicalKeys(handle, "uploads");
    expect(keys).not.toContain("rel/reference.bin");
    expect(keys).toEqual(["rel/app-1.1.zip.sha256", "rel/other.zip"]);
    const again = await dg.upload("uploads", "rel/app-2.0.zip", versions[0]);
    expect(again.storedAs).toBe("reference");
    await dg.deletePrefix("uploads", "rel/");
    expect(await physicalKeys(handle, "uploads")).toEqual([]);
  });
});

describe("compatibility with the real xdelta3", () => {
  it("needs xdelta3 on PATH (CI installs it; a missing tool fails, never skips)", () => {
    expect(hasXdelta3).toBe(true);
  });
  let handle: BackendHandle;
  let dg: DeltaGlider;
  let work: string;
  beforeAll(async () => {
    handle = await BACKENDS[1].create();
    dg = createDeltaGlider(handle.store, createMetrics(), { encodeThreads: 1 });
    await handle.store.createBucket("compat");
    work = await mkdtemp(join(tmpdir(), "glider-compat-"));
  });
  afterAll(async () => {
    await dg.close();
    await handle.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  async function download(key: string): Promise<Buffer> {
    return bytesOf((await handle.store.getObject({ bucket: "compat", key })).body);
  }

  it("xdelta3 -d rebuilds every delta Glider writes from the stored reference.bin", async () => {
    const versions = releaseVersions(400_000, 3, 31);
    for (const [i, v] of versions.entries()) await dg.upload("compat", `r/v${i}.zip`, v);
    await writeFile(join(work, "reference.bin"), await download("r/reference.bin"));
    for (const [i, v] of versions.entries()) {
      await writeFile(join(work, "d"), await download(`r/v${i}.zip.delta`));
      execFileSync("xdelta3", ["-d", "-f", "-s", join(work, "reference.bin"), join(work, "d"), join(work, "out")]);
      expect(sha256(await readFile(join(work, "out")))).toBe(sha256(v));
    }
  });

  it("a .tar.gz DeltaSpace written by GNU tar/gzip and xdelta3 -e -9 reads back byte-exact; Glider's own .tar.gz uploads decode with xdelta3 -d", async () => {
    const tree = join(work, "tree");
    execFileSync("mkdir", ["-p", tree]);
    const payloads = releaseVersions(200_000, 2, 5);
    const archives: Buffer[] = [];
    for (const [i, payload] of payloads.entries()) {
      await writeFile(join(tree, "payload.bin"), payload);
      await writeFile(join(tree, "VERSION"), `1.${i}\n`);
      execFileSync("tar", ["-czf", join(work, `a${i}.tar.gz`), "--mtime=2025-01-01", "-C", tree, "."]);
      archives.push(await readFile(join(work, `a${i}.tar.gz`)));
    }
    // The real CLI: reference = first archive, deltas made by xdelta3 -e -9 (external gzip handling on).
    const refSha = sha256(archives[0]);
    await handle.store.putObject({
      bucket: "compat",
      key: "tgz/reference.bin",
      body: archives[0],
      metadata: { "dg-tool": "deltaglider/6.1.2", "dg-file-sha256": refSha, "dg-note": "reference" },
    });
    for (const [i, archive] of archives.entries()) {
      execFileSync("xdelta3", [
        "-e",
        "-9",
        "-f",
        "-s",
        join(work, "a0.tar.gz"),
        join(work, `a${i}.tar.gz`),
        join(work, "x"),
      ]);
      const delta = await readFile(join(work, "x"));
      await handle.store.putObject({
        bucket: "compat",
        key: `tgz/a${i}.tar.gz.delta`,
        body: delta,
        metadata: {
          "dg-tool": "deltaglider/6.1.2",
          "dg-original-name": `a${i}.tar.gz`,
          "dg-file-sha256": sha256(archive),
          "dg-file-size": String(archive.length),
          "dg-created-at": "2025-01-01T00:00:00Z",
          "dg-ref-key": "tgz/reference.bin",
          "dg-ref-sha256": refSha,
          "dg-delta-size": String(delta.length),
        },
      });
      expect(sha256(await bytesOf((await dg.open("compat", `tgz/a${i}.tar.gz`)).body))).toBe(sha256(archive));
    }
    // Glider writing into that DeltaSpace: the delta addresses the decompressed reference, as xdelta3 -d expects.
    await writeFile(join(tree, "VERSION"), "2.0\n");
    execFileSync("tar", ["-czf", join(work, "a9.tar.gz"), "--mtime=2025-01-01", "-C", tree, "."]);
    const mine = await readFile(join(work, "a9.tar.gz"));
    const result = await dg.upload("compat", "tgz/a9.tar.gz", mine);
    expect(sha256(await bytesOf((await dg.open("compat", "tgz/a9.tar.gz")).body))).toBe(sha256(mine));
    expect(result.storedAs).toBe("delta");
    expect(result.storedBytes).toBeLessThan(mine.length / 4);
    await writeFile(join(work, "d"), await download("tgz/a9.tar.gz.delta"));
    execFileSync("xdelta3", ["-d", "-f", "-s", join(work, "a0.tar.gz"), join(work, "d"), join(work, "out")]);
    expect(sha256(await readFile(join(work, "out")))).toBe(sha256(mine));
  });
});
