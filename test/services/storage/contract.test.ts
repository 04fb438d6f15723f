import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GliderError } from "../../../src/services/errors.js";
import { createFsStore } from "../../../src/services/storage/fs-store.js";
import { compareKeys } from "../../../src/services/storage/keys.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { listInParallel } from "../../../src/services/storage/parallel-listing.js";
import { BACKENDS } from "../../helpers/backends.js";
import { inFlightBody } from "../../helpers/fs-store-body.js";

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GliderError) return error.code;
    throw error;
  }
  return "no error";
}

async function listAll(store: ObjectStore, bucket: string, prefix: string, delimiter?: string, maxKeys = 1000) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await store.listObjects({ bucket, prefix, delimiter, maxKeys, continuationToken: token });
    expect(page.objects.length + page.commonPrefixes.length).toBeLessThanOrEqual(maxKeys);
    keys.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.commonPrefixes);
    token = page.nextContinuationToken;
    expect(page.isTruncated).toBe(token !== undefined);
    pages++;
  } while (token);
  return { keys, prefixes, pages };
}

describe.each(BACKENDS)("ObjectStore contract: $name", (backend) => {
  let store: ObjectStore;
  let cleanup: () => Promise<void>;
  let bucketSeq = 0;
  const newBucket = async () => {
    const name = `contract-${backend.name}-${++bucketSeq}`;
    await store.createBucket(name);
    return name;
  };

  beforeAll(async () => {
    ({ store, cleanup } = await backend.create());
  });
  afterAll(() => cleanup());

  it("creates, lists and probes buckets", async () => {
    const bucket = await newBucket();
    expect(await store.bucketExists(bucket)).toBe(true);
    expect(await store.bucketExists("no-such-bucket-here")).toBe(false);
    expect((await store.listBuckets()).map((b) => b.name)).toContain(bucket);
    await store.createBucket(bucket); // idempotent
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it("rejects invalid bucket names", async () => {
    if (backend.name === "s3" || backend.name === "rgw")
      return expect(await code(store.createBucket("Bad_Name"))).toMatch(/invalid_bucket_name/);
    for (const name of ["ab", "Bad_Name", "-x-y", "a..b", "192.168.1.1", "x".repeat(64)]) {
      expect(await code(store.createBucket(name))).toBe("invalid_bucket_name");
    }
  });

  it("reports a missing bucket as bucket_not_found", async () => {
    expect(await code(store.listObjects({ bucket: "missing-bucket-x" }))).toBe("bucket_not_found");
    expect(await code(store.headObject("missing-bucket-x", "k"))).toBe("bucket_not_found");
  });

  it("lists an empty bucket as empty", async () => {
    const bucket = await newBucket();
    expect(await store.listObjects({ bucket, delimiter: "/" })).toEqual({
      objects: [],
      commonPrefixes: [],
      isTruncated: false,
    });
  });

  it("round-trips bytes, content type and user metadata (names lower-cased, '_' read as '-')", async () => {
    const bucket = await newBucket();
    const body = Buffer.from("hello glider");
    const put = await store.putObject({
      bucket,
      key: "dir/file.txt",
      body,
      contentType: "text/plain",
      metadata: { "Dg-File-Sha256": "abc", file_size: "12", "x-note": "ünïcode" },
    });
    expect(put.size).toBe(body.length);
    const head = await store.headObject(bucket, "dir/file.txt");
    expect(head.size).toBe(body.length);
    expect(head.contentType).toBe("text/plain");
    expect(head.metadata).toMatchObject({ "dg-file-sha256": "abc", "file-size": "12" });
    expect(head.metadata.file_size).toBeUndefined();
    // A non-ASCII value never travels raw in an S3 header: S3 backends keep the RFC 2047 word AWS S3 returns.
    const encoded = `=?UTF-8?B?${Buffer.from("ünïcode").toString("base64")}?=`;
    expect(head.metadata["x-note"]).toBe(store.kind === "s3" ? encoded : "ünïcode");
    expect(head.etag).toBe(put.etag);
    expect(head.lastModified.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const got = await store.getObject({ bucket, key: "dir/file.txt" });
    expect(got.contentLength).toBe(body.length);
    expect((await collect(got.body)).toString()).toBe("hello glider");
  });

  it("reads byte ranges", async () => {
    const bucket = await newBucket();
    const body = Buffer.from("0123456789abcdef");
    await store.putObject({ bucket, key: "r.bin", body });
    const mid = await store.getObject({ bucket, key: "r.bin", range: { start: 3, end: 7 } });
    expect(mid.contentLength).toBe(5);
    expect(mid.head.size).toBe(16);
    expect((await collect(mid.body)).toString()).toBe("34567");
    const tail = await store.getObject({ bucket, key: "r.bin", range: { start: 10 } });
    expect((await collect(tail.body)).toString()).toBe("abcdef");
  });

  it("overwrites an object completely", async () => {
    const bucket = await newBucket();
    await store.putObject({ bucket, key: "o", body: Buffer.from("first version"), metadata: { a: "1" } });
    await store.putObject({ bucket, key: "o", body: Buffer.from("second"), metadata: { b: "2" } });
    const head = await store.headObject(bucket, "o");
    expect(head.size).toBe(6);
    expect(head.metadata.a).toBeUndefined();
    expect(head.metadata.b).toBe("2");
    expect((await collect((await store.getObject({ bucket, key: "o" })).body)).toString()).toBe("second");
    expect((await store.listObjects({ bucket })).objects.map((o) => o.key)).toEqual(["o"]);
  });

  // S3 makes a PUT visible atomically; Send's records (a token's counters) are read while another instance rewrites
  // them. A torn read (new bytes cut to the old length) was once a JSON parse failure answered as `internal`.
  it("a read during overwrites of another length sees one whole version", async () => {
    const bucket = await newBucket();
    const versions = Array.from({ length: 12 }, (_, i) => JSON.stringify({ n: i, pad: "x".repeat((i * 37) % 300) }));
    await store.putObject({ bucket, key: "rec.json", body: Buffer.from(versions[0]) });
    const seen = new Set<string>();
    const writes = (async () => {
      for (const version of versions) await store.putObject({ bucket, key: "rec.json", body: Buffer.from(version) });
    })();
    let writing = true;
    void writes.finally(() => (writing = false));
    do {
      const reads = await Promise.all(
        Array.from({ length: 4 }, async () =>
          (await collect((await store.getObject({ bucket, key: "rec.json" })).body)).toString(),
        ),
      );
      for (const body of reads) seen.add(body);
    } while (writing);
    await writes;
    for (const body of seen) expect(versions).toContain(body);
  });

  it("deletes, and deleting a missing key succeeds", async () => {
    const bucket = await newBucket();
    await store.putObject({ bucket, key: "a/b/c", body: Buffer.from("x") });
    await store.deleteObject(bucket, "a/b/c");
    expect(await code(store.headObject(bucket, "a/b/c"))).toBe("key_not_found");
    expect(await code(store.getObject({ bucket, key: "a/b/c" }))).toBe("key_not_found");
    await expect(store.deleteObject(bucket, "never-existed")).resolves.toBeUndefined();
    expect(await store.listObjects({ bucket, delimiter: "/" })).toMatchObject({ objects: [], commonPrefixes: [] });
  });

  it("stores zero-byte objects and folder markers beside folders of the same name", async () => {
    const bucket = await newBucket();
    await store.putObject({ bucket, key: "incoming/", body: Buffer.alloc(0) });
    await store.putObject({ bucket, key: "incoming/file", body: Buffer.from("f") });
    await store.putObject({ bucket, key: "a", body: Buffer.from("file a") });
    await store.putObject({ bucket, key: "a/b", body: Buffer.from("file a/b") });
    expect((await store.headObject(bucket, "incoming/")).size).toBe(0);
    expect(await collect((await store.getObject({ bucket, key: "incoming/" })).body)).toHaveLength(0);
    expect((await collect((await store.getObject({ bucket, key: "a" })).body)).toString()).toBe("file a");
    const inFolder = await store.listObjects({ bucket, prefix: "incoming/", delimiter: "/" });
    expect(inFolder.objects.map((o) => o.key)).toEqual(["incoming/", "incoming/file"]);
  });

  it("lists with a delimiter: nested prefixes, folders holding only folders", async () => {
    const bucket = await newBucket();
    const keys = [
      "README.txt",
      "docs/howto/setup/checklist.json",
      "docs/howto/other.md",
      "apps/viewer/v1.zip",
      "apps/viewer/v2.zip",
      "apps/top.txt",
      "apps-notes.txt",
      "z/",
    ];
    for (const key of keys) await store.putObject({ bucket, key, body: Buffer.from(key) });
    const root = await store.listObjects({ bucket, delimiter: "/" });
    expect(root.objects.map((o) => o.key)).toEqual(["README.txt", "apps-notes.txt"]);
    expect(root.commonPrefixes).toEqual(["apps/", "docs/", "z/"]);
    const docs = await store.listObjects({ bucket, prefix: "docs/", delimiter: "/" });
    expect(docs).toMatchObject({ objects: [], commonPrefixes: ["docs/howto/"] });
    const howto = await store.listObjects({ bucket, prefix: "docs/howto/", delimiter: "/" });
    expect(howto.objects.map((o) => o.key)).toEqual(["docs/howto/other.md"]);
    expect(howto.commonPrefixes).toEqual(["docs/howto/setup/"]);
    const partial = await store.listObjects({ bucket, prefix: "apps", delimiter: "/" });
    expect(partial.objects.map((o) => o.key)).toEqual(["apps-notes.txt"]);
    expect(partial.commonPrefixes).toEqual(["apps/"]);
    const flat = await store.listObjects({ bucket, prefix: "apps/" });
    expect(flat.objects.map((o) => o.key)).toEqual(["apps/top.txt", "apps/viewer/v1.zip", "apps/viewer/v2.zip"]);
    expect(flat.objects[0].size).toBe("apps/top.txt".length);
  });

  it("paginates across pages in UTF-8 order with and without a delimiter", async () => {
    const bucket = await newBucket();
    const keys: string[] = [];
    for (let i = 0; i < 23; i++) keys.push(`p/item-${String(i).padStart(3, "0")}`);
    for (let i = 0; i < 7; i++) keys.push(`p/sub-${i}/x`, `p/sub-${i}/y`);
    keys.push("p/\u00e9t\u00e9", "p/\uFFFDz", "p/\u{1F600}smile", "p/Zed", "p/a b+c%20d");
    for (const key of keys) await store.putObject({ bucket, key, body: Buffer.from("v") });

    const flat = await listAll(store, bucket, "p/", undefined, 7);
    expect(flat.pages).toBeGreaterThanOrEqual(3);
    expect(flat.keys).toEqual([...keys].sort(compareKeys));
    expect(flat.keys.indexOf("p/\uFFFDz")).toBeLessThan(flat.keys.indexOf("p/\u{1F600}smile"));

    const grouped = await listAll(store, bucket, "p/", "/", 4);
    expect(grouped.pages).toBeGreaterThanOrEqual(3);
    const expectedObjects = keys.filter((k) => !k.slice(2).includes("/")).sort(compareKeys);
    expect(grouped.keys).toEqual(expectedObjects);
    expect(grouped.prefixes).toEqual(Array.from({ length: 7 }, (_, i) => `p/sub-${i}/`));
  });

  it("lists a folder with several LISTs at once exactly as one walk does (parallel-listing.ts)", async () => {
    const bucket = await newBucket();
    const keys: string[] = [];
    for (let i = 0; i < 60; i++) keys.push(`p/build-${String(i).padStart(4, "0")}.zip${i % 4 ? ".delta" : ""}`);
    for (let i = 0; i < 4; i++) keys.push(`p/sub-${i}/x`, `p/sub-${i}/y`);
    keys.push("p/\u00e9t\u00e9", "p/\uE000z", "p/\u{1F600}smile", "p/\u{10FFFF}past", "p/Zed", "p/a b+c%20d");
    await Promise.all(keys.map((key) => store.putObject({ bucket, key, body: Buffer.from("v") })));
    for (const delimiter of ["/", undefined]) {
      const walked = await listAll(store, bucket, "p/", delimiter);
      const objects: string[] = [];
      const prefixes: string[] = [];
      const pages = listInParallel(store, { bucket, prefix: "p/", delimiter }, { concurrency: 4, pageSize: 5 });
      for await (const page of pages) {
        objects.push(...page.objects.map((o) => o.key));
        prefixes.push(...page.commonPrefixes);
      }
      expect(objects).toEqual(walked.keys);
      expect(prefixes).toEqual(walked.prefixes);
    }
  });

  it("round-trips keys with spaces, unicode, '+' and '%'", async () => {
    const bucket = await newBucket();
    const keys = ["notes/build + deploy.txt", "ünï/cødé ✓.zip", "pct/100%/a%2Fb", "plus+plus", "sp ace/ x "];
    for (const key of keys) {
      await store.putObject({ bucket, key, body: Buffer.from(`body of ${key}`), metadata: { k: "v" } });
    }
    for (const key of keys) {
      expect((await collect((await store.getObject({ bucket, key })).body)).toString()).toBe(`body of ${key}`);
      expect((await store.headObject(bucket, key)).metadata.k).toBe("v");
    }
    expect((await listAll(store, bucket, "")).keys).toEqual([...keys].sort(compareKeys));
  });

  it("streams a 20 MB put and get with matching sha256", async () => {
    const bucket = await newBucket();
    const chunk = randomBytes(1024 * 1024);
    const expected = createHash("sha256");
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 20; i++) {
          const part = Buffer.from(chunk);
          part[0] = i;
          expected.update(part);
          yield part;
        }
      })(),
    );
    const put = await store.putObject({ bucket, key: "big.bin", body: source });
    expect(put.size).toBe(20 * 1024 * 1024);
    const got = await store.getObject({ bucket, key: "big.bin" });
    const actual = createHash("sha256");
    let size = 0;
    for await (const part of got.body) {
      actual.update(part);
      size += part.length;
    }
    expect(size).toBe(20 * 1024 * 1024);
    expect(actual.digest("hex")).toBe(expected.digest("hex"));
    // A streamed body this size is a multipart upload on S3: the ETag it reports is the stored object's.
    const head = await store.headObject(bucket, "big.bin");
    expect(put.etag).not.toBe("");
    expect(put.etag).toBe(head.etag);
  });

  it("creates conditionally with ifNoneMatch", async () => {
    const bucket = await newBucket();
    await store.putObject({ bucket, key: "ref", body: Buffer.from("one"), ifNoneMatch: "*" });
    expect(await code(store.putObject({ bucket, key: "ref", body: Buffer.from("two"), ifNoneMatch: "*" }))).toBe(
      "precondition_failed",
    );
    expect((await collect((await store.getObject({ bucket, key: "ref" })).body)).toString()).toBe("one");
  });

  it("overwrites conditionally with ifMatch, quoted or bare ETag", async () => {
    const bucket = await newBucket();
    const first = await store.putObject({ bucket, key: "slot", body: Buffer.from("one") });
    expect(first.etag).toMatch(/^".+"$/);
    const read = async () => (await collect((await store.getObject({ bucket, key: "slot" })).body)).toString();
    const stale = '"0123456789abcdef0123456789abcdef"';
    expect(await code(store.putObject({ bucket, key: "slot", body: Buffer.from("x"), ifMatch: stale }))).toBe(
      "precondition_failed",
    );
    expect(await read()).toBe("one");
    const second = await store.putObject({ bucket, key: "slot", body: Buffer.from("two"), ifMatch: first.etag });
    expect(await read()).toBe("two");
    await store.putObject({ bucket, key: "slot", body: Buffer.from("three"), ifMatch: second.etag.slice(1, -1) });
    expect(await read()).toBe("three");
    expect(await code(store.putObject({ bucket, key: "none", body: Buffer.from("x"), ifMatch: first.etag }))).toBe(
      "precondition_failed",
    );
  });

  it("copies objects, keeping or replacing metadata", async () => {
    const bucket = await newBucket();
    await store.putObject({ bucket, key: "src", body: Buffer.from("copy me"), metadata: { a: "1" } });
    await store.copyObject({ bucket, sourceKey: "src", destinationKey: "dst/kept" });
    await store.copyObject({ bucket, sourceKey: "src", destinationKey: "dst/replaced", metadata: { b: "2" } });
    expect((await store.headObject(bucket, "dst/kept")).metadata).toMatchObject({ a: "1" });
    expect((await store.headObject(bucket, "dst/replaced")).metadata).toEqual({ b: "2" });
    expect((await collect((await store.getObject({ bucket, key: "dst/kept" })).body)).toString()).toBe("copy me");
  });

  it("reports its capabilities honestly", async () => {
    const bucket = await newBucket();
    await store.putObject({ bucket, key: "p.txt", body: Buffer.from("presigned") });
    if (!store.capabilities.presign) {
      expect(await code(store.presign({ method: "GET", bucket, key: "p.txt", expiresInSeconds: 60 }))).toBe(
        "unsupported",
      );
      return;
    }
    const getUrl = await store.presign({ method: "GET", bucket, key: "p.txt", expiresInSeconds: 60 });
    expect(await (await fetch(getUrl)).text()).toBe("presigned");
    const putUrl = await store.presign({ method: "PUT", bucket, key: "up.txt", expiresInSeconds: 60 });
    expect((await fetch(putUrl, { method: "PUT", body: "uploaded" })).status).toBe(200);
    expect((await collect((await store.getObject({ bucket, key: "up.txt" })).body)).toString()).toBe("uploaded");
  });
});

describe("filesystem store specifics", () => {
  let dataDir: string;
  let store: ObjectStore;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "glider-fs-only-"));
    store = createFsStore(dataDir);
    await store.createBucket("safe");
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it.each(["../escape", "a/../../escape", "/etc/passwd", "a\\..\\b", "nul\0byte", "", "a/.."])(
    "rejects the key %j with invalid_key",
    async (key) => {
      expect(await code(store.putObject({ bucket: "safe", key, body: Buffer.from("x") }))).toBe("invalid_key");
      expect(await code(store.headObject("safe", key))).toBe("invalid_key");
      expect(await readdir(dataDir)).not.toContain("escape");
    },
  );

  it("keeps names that look like its own bookkeeping inside the bucket", async () => {
    for (const key of [".hidden", "x@meta", "a/./b", "%", "a//b", "con:aux"]) {
      await store.putObject({ bucket: "safe", key, body: Buffer.from(key) });
      expect((await collect((await store.getObject({ bucket: "safe", key })).body)).toString()).toBe(key);
    }
    const keys = (await listAll(store, "safe", "")).keys;
    expect(keys).toEqual([".hidden", "%", "a//b", "a/./b", "con:aux", "x@meta"].sort(compareKeys));
  });

  it("never shows a partial object while a write is in flight", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let inFlight!: () => void;
    const written = new Promise<void>((r) => {
      inFlight = r;
    });
    const bytes = Buffer.concat([Buffer.alloc(64 * 1024, 1), Buffer.alloc(64 * 1024, 2)]);
    const writing = store.putObject({ bucket: "safe", key: "slow.bin", body: inFlightBody(bytes, inFlight, gate) });
    await written;
    expect(await code(store.headObject("safe", "slow.bin"))).toBe("key_not_found");
    expect((await store.listObjects({ bucket: "safe", prefix: "slow" })).objects).toEqual([]);
    release();
    await writing;
    expect((await store.headObject("safe", "slow.bin")).size).toBe(bytes.length);
  });

  it("leaves nothing behind when a write is aborted", async () => {
    const controller = new AbortController();
    const body = Readable.from(
      (async function* () {
        yield Buffer.alloc(10);
        controller.abort();
        yield Buffer.alloc(10);
      })(),
    );
    await expect(
      store.putObject({ bucket: "safe", key: "aborted", body, signal: controller.signal }),
    ).rejects.toThrow();
    expect(await code(store.headObject("safe", "aborted"))).toBe("key_not_found");
    // Its own temp folder (the only one under .glider-tmp) is empty again.
    const [own] = await readdir(join(dataDir, ".glider-tmp"));
    expect(await readdir(join(dataDir, ".glider-tmp", own))).toEqual([]);
  });
});
