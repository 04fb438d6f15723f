import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { DEV_LOCAL_CREDENTIALS } from "../../../src/config.js";
import { listen, testConfig } from "../../helpers/app.js";
import { CommanderClient } from "../../helpers/commander-client.js";
import {
  uiBucketStats,
  uiBuckets,
  uiBulkDelete,
  uiError,
  uiMetadata,
  uiObjectList,
  uiPresigned,
  uiRefresh,
  uiSessionStatus,
  uiUpload,
} from "../../helpers/commander-schemas.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../../helpers/s3rver.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Two versions of one release (the second stores as a delta), a text file. */
const v1 = randomBytes(300_000);
const v2 = Buffer.from(v1);
v2.fill(7, 1000, 1400);
v2.write("version 2", 150_000);
const notes = Buffer.from("release notes\n".repeat(500));
const originalTotal = v1.length + v2.length + notes.length;

interface Backend {
  name: string;
  start(): Promise<{ app: FastifyInstance; credentials: Record<string, unknown>; stop(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "embedded fs store, local key pair",
    async start() {
      const dir = await mkdtemp(join(tmpdir(), "glider-commander-fs-"));
      const app = await buildApp(
        testConfig({ STORAGE: "fs", DATA_DIR: dir, SEED_DEMO: "false", OBJECTS_RATE_LIMIT: "0" }),
        { logger: pino({ level: "silent" }) },
      );
      return {
        app,
        credentials: {
          access_key_id: DEV_LOCAL_CREDENTIALS.accessKeyId,
          secret_access_key: DEV_LOCAL_CREDENTIALS.secretAccessKey,
          region: "us-east-1",
          endpoint: "",
        },
        stop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "s3rver, session S3 credentials",
    async start() {
      const s3: S3rverHandle = await startS3rver({
        credentials: { accessKeyId: "COMMANDERKEY", secretAccessKey: "commander-secret-0123" },
      });
      const app = await buildApp(testConfig({ OBJECTS_RATE_LIMIT: "0" }), { logger: pino({ level: "silent" }) });
      return {
        app,
        credentials: {
          access_key_id: "COMMANDERKEY",
          secret_access_key: "commander-secret-0123",
          region: "us-east-1",
          endpoint: s3.endpoint,
          addressing_style: "path",
          verify: true,
        },
        stop: () => s3.stop(),
      };
    },
  },
];

describe.each(backends)("the Commander UI's calls on $name", (backend) => {
  let app: FastifyInstance;
  let client: CommanderClient;
  let credentials: Record<string, unknown>;
  let stop: () => Promise<void>;
  const bucket = "commander-test";

  beforeAll(async () => {
    const started = await backend.start();
    app = started.app;
    credentials = started.credentials;
    stop = started.stop;
    client = new CommanderClient(await listen(app));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await stop?.();
  });

  it("signs in with an HttpOnly, SameSite=Lax session cookie and no secret in the answer", async () => {
    // s3rver checks the access key id (not SigV4 signatures), so the wrong pair differs in both.
    const wrong = await client.login({
      ...credentials,
      access_key_id: "WRONGKEY",
      secret_access_key: "not-the-secret",
    });
    expect(wrong.status).toBe(403);
    expect(uiError.parse(wrong.body).error.code).toBe("invalid_credentials");
    expect(client.cookie).toBeUndefined();

    const res = await client.login(credentials);
    expect(res.status).toBe(200);
    expect(client.lastSetCookie).toMatch(/^glider_session=[A-Za-z0-9_-]{40,};/);
    expect(client.lastSetCookie).toMatch(/HttpOnly/);
    expect(client.lastSetCookie).toMatch(/SameSite=Lax/);
    expect(client.lastSetCookie).not.toMatch(/Secure/);
    expect(JSON.stringify(res.body)).not.toContain(String(credentials.secret_access_key));
    const status = await client.call("GET", "/api/auth/session/status");
    expect(status.status).toBe(200);
    expect(uiSessionStatus.parse(status.body)).toMatchObject({ valid: true });
    expect(status.body.expires_in).toBeGreaterThan(1700);
  });

  it("creates a bucket (201), refuses it twice (409 bucket_exists) and refuses a bad name (400)", async () => {
    const created = await client.call("POST", "/api/buckets/", { name: bucket });
    expect(created).toMatchObject({ status: 201, body: { status: "created", bucket } });
    const again = await client.call("POST", "/api/buckets/", { name: bucket });
    expect(again.status).toBe(409);
    expect(uiError.parse(again.body).error.code).toBe("bucket_exists");
    const bad = await client.call("POST", "/api/buckets/", { name: "Not_A_Bucket" });
    expect(bad.status).toBe(400);
    expect(uiError.parse(bad.body).error.code).toBe("invalid_bucket_name");
    const listed = uiBuckets.parse((await client.call("GET", "/api/buckets/")).body);
    expect(listed.buckets.find((b) => b.name === bucket)).toMatchObject({ object_count: 0, original_bytes: 0 });
  });

  it("uploads the UI's multi-file form: one result per file, a refused file reported and not stored", async () => {
    const form = new FormData();
    form.set("bucket", bucket);
    form.set("prefix", "releases");
    form.append("files", new Blob([v1]), "app/app-1.0.zip");
    form.append("files", new Blob([notes]), "app/NOTES.txt");
    form.append("files", new Blob([Buffer.from("x")]), "app/sneaky.delta");
    const first = await client.call("POST", "/api/upload/", undefined, { form });
    expect(first.status).toBe(200);
    const parsed = uiUpload.parse(first.body);
    expect(parsed.results.map((r) => [r.key, r.operation])).toEqual([
      ["releases/app/app-1.0.zip", "create_reference"],
      ["releases/app/NOTES.txt", "upload_direct"],
      ["releases/app/sneaky.delta", "failed"],
    ]);
    expect(parsed.stats).toMatchObject({ count: 2, original_bytes: v1.length + notes.length });

    const second = new FormData();
    second.set("bucket", bucket);
    second.set("prefix", "releases");
    second.append("files", new Blob([v2]), "app/app-1.1.zip");
    const delta = uiUpload.parse((await client.call("POST", "/api/upload/", undefined, { form: second })).body);
    expect(delta.results[0]).toMatchObject({ operation: "create_delta", compressed: true, original_bytes: v2.length });
    expect(delta.results[0].stored_bytes).toBeLessThan(v2.length / 10);
    expect(delta.results[0].savings_bytes).toBe(v2.length - delta.results[0].stored_bytes);

    const listing = uiObjectList.parse(
      (await client.call("GET", `/api/objects/?bucket=${bucket}&prefix=releases/app/&limit=100&sort=name&order=asc`))
        .body,
    );
    expect(listing.objects.map((o) => o.key)).toEqual([
      "releases/app/NOTES.txt",
      "releases/app/app-1.0.zip",
      "releases/app/app-1.1.zip",
    ]);
  });

  it("refuses two files for one key with 400 before storing either (was: 413 after storing the first)", async () => {
    const form = new FormData();
    form.set("bucket", bucket);
    form.set("key", "single/one.bin");
    form.append("file", new Blob([Buffer.from("first")]), "a.bin");
    form.append("file", new Blob([Buffer.from("second")]), "b.bin");
    const res = await client.call("POST", "/api/upload", undefined, { form });
    expect(res.status).toBe(400);
    expect(uiError.parse(res.body).error.code).toBe("invalid_request");
    const listing = uiObjectList.parse(
      (await client.call("GET", `/api/objects/?bucket=${bucket}&prefix=single/`)).body,
    );
    expect(listing.objects).toEqual([]);
  });

  it("answers bucket figures as integers in every mode; detailed is exact; figures stay (stale) after a change", async () => {
    const quick = uiBucketStats.parse((await client.call("GET", `/api/buckets/${bucket}/stats?mode=quick`)).body);
    expect(quick.bucket).toMatchObject({ name: bucket, object_count: 3, stats_mode: "quick", stats_loaded: true });
    const sampled = uiBucketStats.parse((await client.call("GET", `/api/buckets/${bucket}/stats?mode=sampled`)).body);
    // Up to 100 deltas the sample is every delta: exact.
    expect(sampled.bucket).toMatchObject({ stats_mode: "sampled", original_bytes: originalTotal });
    const detailed = uiBucketStats.parse((await client.call("GET", `/api/buckets/${bucket}/stats?mode=detailed`)).body);
    expect(detailed.bucket).toMatchObject({ stats_mode: "detailed", object_count: 3, original_bytes: originalTotal });
    expect(detailed.bucket.stored_bytes).toBe(quick.bucket.stored_bytes);
    expect(detailed.bucket.stored_bytes).toBeLessThan(originalTotal);
    const bad = await client.call("GET", `/api/buckets/${bucket}/stats?mode=everything`);
    expect(bad.status).toBe(400);
    const missing = await client.call("GET", "/api/buckets/no-such-bucket/stats?mode=quick");
    expect(uiError.parse(missing.body).error.code).toBe("bucket_not_found");

    const listedRes = await client.call("GET", "/api/buckets/");
    uiBuckets.parse(listedRes.body);
    const figuresOf = (body: unknown) =>
      (body as { buckets: { name: string }[] }).buckets.find((b) => b.name === bucket);
    expect(figuresOf(listedRes.body)).toMatchObject({
      original_bytes: originalTotal,
      stats_mode: "detailed",
      stale: false,
    });

    // A change keeps the figures, marked stale, integers still.
    const form = new FormData();
    form.set("bucket", bucket);
    form.append("files", new Blob([Buffer.from("late")]), "late.txt");
    uiUpload.parse((await client.call("POST", "/api/upload/", undefined, { form })).body);
    const after = await client.call("GET", "/api/buckets/");
    uiBuckets.parse(after.body);
    expect(figuresOf(after.body)).toMatchObject({
      original_bytes: originalTotal,
      stale: true,
      stats_loaded: true,
    });

    const refreshed = await client.call("POST", "/api/buckets/cache/refresh", { mode: "quick" });
    expect(uiRefresh.parse(refreshed.body)).toMatchObject({ status: "refreshed", mode: "quick" });
    expect(figuresOf(refreshed.body)).toMatchObject({ object_count: 4, stale: false, stats_mode: "quick" });
  });

  it("opens the file panel with content type, etag and the DeltaGlider metadata", async () => {
    const res = await client.call("GET", `/api/objects/${bucket}/releases/app/app-1.1.zip/metadata`);
    const meta = uiMetadata.parse(res.body);
    expect(meta).toMatchObject({ key: "releases/app/app-1.1.zip", original_bytes: v2.length, compressed: true });
    expect(meta.etag).toMatch(/^[0-9a-f]{32}/);
    expect(typeof meta.content_type).toBe("string");
    expect(meta.metadata?.["dg-file-sha256"]).toBe(sha256(v2));
  });

  it("hands out an absolute download link that streams the verified original without the session cookie", async () => {
    const res = await client.call("POST", "/api/download/presigned-url", {
      bucket,
      key: "releases/app/app-1.1.zip",
      expires_in: 86_400,
      with_rehydration: true,
    });
    const link = uiPresigned.parse(res.body);
    expect(link.download_url.startsWith(`${client.base}/api/download/`)).toBe(true);
    expect(link.expires_in).toBe(86_400);
    expect(link.expires_at - Math.floor(Date.now() / 1000)).toBeGreaterThan(86_300);
    expect(link.estimated_bytes).toBe(v2.length);
    const download = await fetch(link.download_url);
    expect(download.status).toBe(200);
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(v2));

    for (const expires_in of [59, 604_801]) {
      const refused = await client.call("POST", "/api/download/presigned-url", { bucket, key: "late.txt", expires_in });
      expect(refused.status).toBe(400);
      expect(uiError.parse(refused.body).error.code).toBe("invalid_request");
    }
  });

  it("deletes one object, then several with per-key errors", async () => {
    const one = await client.call("DELETE", `/api/objects/${bucket}/late.txt`);
    expect(one.status).toBe(200);
    const bulk = await client.call("DELETE", "/api/objects/bulk", {
      bucket,
      keys: ["releases/app/NOTES.txt", "releases/app/missing.bin"],
    });
    const parsed = uiBulkDelete.parse(bulk.body);
    expect(parsed).toMatchObject({
      deleted: ["releases/app/NOTES.txt"],
      total_requested: 2,
      total_deleted: 1,
      total_errors: 1,
    });
    expect(parsed.errors[0].key).toBe("releases/app/missing.bin");
  });

  it("refuses to delete a non-empty bucket (409 bucket_not_empty), deletes it once empty", async () => {
    const refused = await client.call("DELETE", `/api/buckets/${bucket}`);
    expect(refused.status).toBe(409);
    expect(uiError.parse(refused.body).error.code).toBe("bucket_not_empty");
    const bulk = uiBulkDelete.parse(
      (
        await client.call("DELETE", "/api/objects/bulk", {
          bucket,
          keys: ["releases/app/app-1.0.zip", "releases/app/app-1.1.zip"],
        })
      ).body,
    );
    expect(bulk.total_deleted).toBe(2);
    const deleted = await client.call("DELETE", `/api/buckets/${bucket}/`);
    expect(deleted).toMatchObject({ status: 200, body: { status: "deleted", bucket } });
    const listed = uiBuckets.parse((await client.call("GET", "/api/buckets/")).body);
    expect(listed.buckets.map((b) => b.name)).not.toContain(bucket);
  });

  it("signs out: the cookie is cleared and the status is 401", async () => {
    const cookie = client.cookie;
    const out = await client.call("DELETE", "/api/auth/session");
    expect(out.status).toBe(200);
    expect(client.lastSetCookie).toMatch(/Max-Age=0/);
    expect(client.cookie).toBeUndefined();
    client.cookie = cookie;
    const status = await client.call("GET", "/api/auth/session/status");
    expect(status.status).toBe(401);
    expect(status.body).toMatchObject({ valid: false, error: { code: "session_required" } });
    // The signed-out cookie no longer reaches the store: the UI is told to sign in again.
    const buckets = await client.call("GET", "/api/buckets/");
    expect(buckets.status).toBe(401);
    expect(uiError.parse(buckets.body).error.code).toBe("session_required");
  });
});

describe("the UI's refresh (bypass_cache=true) on s3rver with session credentials", () => {
  let s3: S3rverHandle;
  let app: FastifyInstance;
  let client: CommanderClient;

  beforeAll(async () => {
    s3 = await startS3rver();
    app = await buildApp(testConfig({ OBJECTS_RATE_LIMIT: "0" }), { logger: pino({ level: "silent" }) });
    client = new CommanderClient(await listen(app));
    const login = await client.login({
      access_key_id: s3.credentials.accessKeyId,
      secret_access_key: s3.credentials.secretAccessKey,
      region: s3.region,
      endpoint: s3.endpoint,
      addressing_style: "path",
    });
    expect(login.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await s3?.stop();
  });

  it("lists a change made by another S3 client at once, where a plain listing still answers from the cache", async () => {
    expect((await client.call("POST", "/api/buckets/", { name: "refreshed" })).status).toBe(201);
    const path = "/api/objects/?bucket=refreshed&prefix=in%2F&limit=100&sort=name&order=asc";
    const keys = async (query: string) =>
      uiObjectList.parse((await client.call("GET", `${path}${query}`)).body).objects.map((o) => o.key);
    expect(await keys("")).toEqual([]);
    // Another S3 client writes to the same bucket: Glider cannot know.
    const outside = createS3StoreFor(s3);
    await outside.putObject({ bucket: "refreshed", key: "in/outside.txt", body: Buffer.from("written elsewhere\n") });
    expect(await keys("")).toEqual([]);
    expect(await keys("&bypass_cache=true")).toEqual(["in/outside.txt"]);
    // The refreshed listing is the cached one now.
    expect(await keys("")).toEqual(["in/outside.txt"]);
  });
});
