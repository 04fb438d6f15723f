import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDeltaGlider } from "../../../src/services/deltaglider/index.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { readAll } from "../../../src/services/storage/body.js";
import { guardStore } from "../../../src/services/storage/guarded-store.js";
import { createS3Store } from "../../../src/services/storage/s3-store.js";
import { buildTestApp, listen } from "../../helpers/app.js";
import { FaultProxy } from "../../helpers/fault-proxy.js";
import { releaseVersions } from "../../helpers/releases.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../../helpers/s3rver.js";
import { ADMIN_KEY, bearer } from "../../rest/send/helpers.js";

/**
 * Storage faults on a real S3 server (s3rver) behind a fault proxy of our own: a stalled, reset or silent store
 * gives typed errors within the deadlines, and a write the client gave up on never becomes visible, even when the
 * stalled store resumes and commits it late.
 */
const TIMEOUT_MS = 1000;

describe("storage faults through a fault proxy (s3rver)", () => {
  let s3: S3rverHandle;
  let proxy: FaultProxy;
  let app: FastifyInstance;
  let base: string;
  const direct = () => createS3StoreFor(s3);
  const [v1, v2, v3] = releaseVersions(256 * 1024, 3, 11);

  beforeAll(async () => {
    s3 = await startS3rver();
    proxy = await FaultProxy.start(s3.endpoint);
    const seed = createDeltaGlider(direct(), createMetrics(), { encodeThreads: 1 });
    const store = direct();
    await store.createBucket("faults");
    await seed.upload("faults", "rel/app-1.zip", v1);
    await seed.upload("faults", "rel/app-2.zip", v2);
    await seed.upload("faults", "plain/big.bin", Buffer.alloc(4 * 1024 * 1024, 3));
    await seed.close();
    app = await buildTestApp(
      {
        STORAGE_TIMEOUT_MS: String(TIMEOUT_MS),
        STORAGE_IDLE_TIMEOUT_MS: String(TIMEOUT_MS),
        SEND_ADMIN_API_KEY: ADMIN_KEY,
        SEND_SWEEP_INTERVAL_MS: "0",
        SEED_DEMO: "false",
      },
      {
        store: createS3Store({
          endpoint: proxy.endpoint,
          region: s3.region,
          forcePathStyle: true,
          credentials: s3.credentials,
        }),
      },
    );
    base = await listen(app);
  }, 60_000);

  afterEach(async () => {
    proxy.release();
    await app.services.storageGuard.compensations.drained();
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await s3?.stop();
  });

  async function prepare(key: string): Promise<string> {
    const res = await fetch(`${base}/api/download/prepare`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ bucket: "faults", key }),
    });
    expect(res.status).toBe(200);
    return (await res.json()).download_token;
  }

  async function exists(bucket: string, key: string): Promise<boolean> {
    try {
      await direct().headObject(bucket, key);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === "key_not_found") return false;
      throw error;
    }
  }

  /** Waits for the store to start undoing a cancelled write (its own event, not a clock or a poll). */
  async function compensationStarted() {
    await app.services.storageGuard.compensations.started();
    expect(app.services.storageGuard.compensations.pending()).toBeGreaterThan(0);
  }

  it("a connection cut while a reference loads is 503 storage_unavailable, not 500 internal", async () => {
    app.services.deltaglider.references.clear();
    const token = await prepare("rel/app-2.zip");
    proxy.rule(/^GET \S*reference\.bin/, { resetAnswerAfter: 1000 });
    const res = await fetch(`${base}/api/download/${token}`);
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe("storage_unavailable");
  });

  it("a connection refused (reset on connect) is a typed 5xx on listings", async () => {
    proxy.rule(/^GET \S*list-type=2/, "reset");
    const res = await fetch(`${base}/api/objects?bucket=faults&prefix=rel/`);
    expect([502, 503]).toContain(res.status);
    expect(["storage_unavailable", "sdk_error"]).toContain((await res.json()).error.code);
  });

  it("a stalled store while a reference loads answers 504 timeout before the first byte (was: no status line)", async () => {
    app.services.deltaglider.references.clear();
    const token = await prepare("rel/app-2.zip");
    proxy.rule(/^GET \S*reference\.bin/, "hold");
    const res = await fetch(`${base}/api/download/${token}`);
    expect(res.status).toBe(504);
    expect((await res.json()).error.code).toBe("timeout");
  });

  it("a store that stops sending mid-body fails the read with timeout after the idle deadline, not never", async () => {
    const guarded = guardStore(
      createS3Store({ endpoint: proxy.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials }),
      { timeoutMs: TIMEOUT_MS, idleTimeoutMs: TIMEOUT_MS },
    );
    proxy.rule(/^GET \S*big\.bin/, { stallAnswerAfter: 256 * 1024 });
    const { body } = await guarded.store.getObject({ bucket: "faults", key: "plain/big.bin" });
    await expect(readAll(body)).rejects.toMatchObject({ code: "timeout" });
    // Through the API the stalled body is met before the first byte (the digest is checked first): 504.
    const token = await prepare("plain/big.bin");
    proxy.rule(/^GET \S*big\.bin/, { stallAnswerAfter: 256 * 1024 });
    const res = await fetch(`${base}/api/download/${token}`);
    expect(res.status).toBe(504);
    expect((await res.json()).error.code).toBe("timeout");
  });

  it("a stalled upload commit answers 504 timeout, and the late commit is undone", async () => {
    proxy.rule(/^PUT \S*app-3\.zip\.delta/, "hold", 1);
    const res = await fetch(`${base}/api/upload?bucket=faults&key=rel/app-3.zip`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(v3),
    });
    expect(res.status).toBe(504);
    expect((await res.json()).error.code).toBe("timeout");
    proxy.release();
    await app.services.storageGuard.compensations.drained();
    expect(await exists("faults", "rel/app-3.zip.delta")).toBe(false);
  });

  it("single-part delta PUT: a client that gives up during a stall never sees its upload appear later", async () => {
    proxy.rule(/^PUT \S*app-3\.zip\.delta/, "hold", 1);
    const controller = new AbortController();
    const upload = fetch(`${base}/api/upload?bucket=faults&key=rel/app-3.zip`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(v3),
      signal: controller.signal,
    }).catch((error) => error);
    await proxy.nextMatch();
    controller.abort();
    await upload;
    await compensationStarted();
    proxy.release();
    await app.services.storageGuard.compensations.drained();
    expect(await exists("faults", "rel/app-3.zip.delta")).toBe(false);
    const listing = await (await fetch(`${base}/api/objects?bucket=faults&prefix=rel/`)).json();
    expect(listing.objects.map((o: { key: string }) => o.key)).not.toContain("rel/app-3.zip");
  });

  it("reference creation: a first upload given up during a stall leaves no reference.bin", async () => {
    proxy.rule(/^PUT \S*fresh\/reference\.bin/, "hold", 1);
    const controller = new AbortController();
    const upload = fetch(`${base}/api/upload?bucket=faults&key=fresh/app-1.0.zip`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(v1),
      signal: controller.signal,
    }).catch((error) => error);
    await proxy.nextMatch();
    controller.abort();
    await upload;
    await compensationStarted();
    proxy.release();
    await app.services.storageGuard.compensations.drained();
    expect(await exists("faults", "fresh/reference.bin")).toBe(false);
    expect(await exists("faults", "fresh/app-1.0.zip.delta")).toBe(false);
  });

  it("multipart PUT: a client that gives up while the completion is stalled never sees the object", async () => {
    proxy.rule(/^POST \S*uploadId=/, "hold", 1);
    const controller = new AbortController();
    const upload = fetch(`${base}/api/upload?bucket=faults&key=multi/blob.bin`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(12 * 1024 * 1024).fill(5),
      signal: controller.signal,
    }).catch((error) => error);
    await proxy.nextMatch();
    controller.abort();
    await upload;
    await compensationStarted();
    proxy.release();
    await app.services.storageGuard.compensations.drained();
    expect(await exists("faults", "multi/blob.bin")).toBe(false);
  });

  it("Send payload/upload-bytes: a client that gives up during a stall leaves no payload, the transfer stays pending", async () => {
    const token = await fetch(`${base}/api/admin/tokens/create`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-admin-key": ADMIN_KEY },
      body: JSON.stringify({ label: "faults" }),
    }).then((r) => r.json());
    const created = await fetch(`${base}/api/transfers/create`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(token.secret) },
      body: JSON.stringify({ size: v1.length }),
    }).then((r) => r.json());
    const id: string = created.transfer.transfer_id;
    proxy.rule(new RegExp(`^PUT \\S*transfers/${id}/payload`), "hold", 1);
    const controller = new AbortController();
    const upload = fetch(`${base}/api/transfers/id/${id}/payload/upload-bytes`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", ...bearer(token.secret) },
      body: new Uint8Array(v1),
      signal: controller.signal,
    }).catch((error) => error);
    await proxy.nextMatch();
    controller.abort();
    await upload;
    await compensationStarted();
    proxy.release();
    await app.services.storageGuard.compensations.drained();
    expect(await exists(app.services.config.send.systemBucket, `transfers/${id}/payload`)).toBe(false);
    const status = await fetch(`${base}/api/transfers/id/${id}/status`).then((r) => r.json());
    expect(status.transfer.status).toBe("pending");
  });
});
