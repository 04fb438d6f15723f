import { mkdir, mkdtemp, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { localPathFor, scanFiles } from "../../src/cli/local-files.js";
import { folderPrefix, parseS3Url } from "../../src/cli/s3-url.js";

describe("cp -r local paths", () => {
  const root = resolve("/tmp/dest");

  it("maps keys relative to the prefix to files below the destination", () => {
    expect(localPathFor(root, "a/b.zip")).toBe(join(root, "a", "b.zip"));
    expect(localPathFor(root, "a//b.zip")).toBe(join(root, "a", "b.zip"));
    expect(localPathFor(root, "incoming/")).toBe(join(root, "incoming"));
    expect(localPathFor(root, "notes/build + deploy.txt")).toBe(join(root, "notes", "build + deploy.txt"));
  });

  it.each(["../evil.txt", "a/../../evil.txt", "..", "", "/", "./"])("refuses %j with invalid_key", (key) => {
    expect(() => localPathFor(root, key)).toThrow(expect.objectContaining({ code: "invalid_key" }));
  });
});

describe("s3:// URLs", () => {
  it("splits bucket and key", () => {
    expect(parseS3Url("s3://fixture")).toEqual({ bucket: "fixture", key: "" });
    expect(parseS3Url("s3://fixture/")).toEqual({ bucket: "fixture", key: "" });
    expect(parseS3Url("s3://fixture/a/b c.zip")).toEqual({ bucket: "fixture", key: "a/b c.zip" });
    expect(folderPrefix("sdk/2.3")).toBe("sdk/2.3/");
    expect(folderPrefix("")).toBe("");
  });

  it.each(["fixture/a", "s3://", "s3:///key", "s3://Bad_Bucket/x"])("rejects %j as a usage error", (url) => {
    expect(() => parseS3Url(url)).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});

describe("scanFiles (the local side of sync and cp -r)", () => {
  it("gives every file below nested folders, past several stat batches, in key order with size and mtime", async () => {
    const root = await mkdtemp(join(tmpdir(), "glider-scan-"));
    try {
      const expected: { path: string; size: number; mtimeMs: number }[] = [];
      await mkdir(join(root, "b", "deep"), { recursive: true });
      // 200 files (three batches of 64 and a part), at distinct sizes and times, some in sub-folders.
      for (let i = 0; i < 200; i++) {
        const path = i % 50 === 7 ? `b/deep/f${i}` : i % 10 === 3 ? `b/f${i}` : `a-${String(i).padStart(3, "0")}`;
        const file = join(root, ...path.split("/"));
        await writeFile(file, "x".repeat(i));
        const when = new Date(1_700_000_000_000 + i * 1000);
        await utimes(file, when, when);
        expected.push({ path, size: i, mtimeMs: (await stat(file)).mtimeMs });
      }
      // A link to a file counts as the file; a link to a folder and an empty folder add nothing.
      await symlink(join(root, "a-000"), join(root, "link"));
      expected.push({ path: "link", size: 0, mtimeMs: (await stat(join(root, "a-000"))).mtimeMs });
      await symlink(join(root, "b"), join(root, "dir-link"));
      await mkdir(join(root, "empty"));
      const scanned = await scanFiles(root);
      expect(scanned.map((f) => f.path)).toEqual(expected.map((f) => f.path).sort());
      const byPath = new Map(scanned.map((f) => [f.path, f]));
      for (const f of expected) {
        expect(byPath.get(f.path), f.path).toEqual({ ...f, absolute: join(root, ...f.path.split("/")) });
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
