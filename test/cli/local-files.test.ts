import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { localPathFor } from "../../src/cli/local-files.js";
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
