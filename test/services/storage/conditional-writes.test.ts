import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeltaGlider, type DeltaGlider } from "../../../src/services/deltaglider/index.js";
import { readDgMetadata, referenceMetadata } from "../../../src/services/deltaglider/metadata.js";
import { createMetrics } from "../../../src/services/metrics.js";
import { createConditionalWriteProbe, PROBE_PREFIX } from "../../../src/services/storage/conditional-writes.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { BACKENDS, type BackendHandle } from "../../helpers/backends.js";
import { releaseVersions, sha256 } from "../../helpers/releases.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../../helpers/s3rver.js";
import { admin, bearer, buildSendApp, injectJson, issueToken, type SendApp } from "../../rest/send/helpers.js";

async function bytesOf(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function keysUnder(store: ObjectStore, bucket: string, prefix: string): Promise<string[]> {
  return (await store.listObjects({ bucket, prefix })).objects.map((o) => o.key);
}

describe.each(BACKENDS)("conditional-write probe on $name", (backend) => {
  let handle: BackendHandle;
  beforeAll(async () => {
    handle = await backend.create();
  });
  afterAll(() => handle.cleanup());

  it("finds If-None-Match and If-Match enforced, once, and leaves no scratch object", async () => {
    const results: unknown[] = [];
    const probe = createConditionalWriteProbe(handle.store, "glider-system-probe", (r) => results.push(r));
    expect(probe.current()).toBeUndefined();
    const [a, b] = await Promise.all([probe.support(), probe.support()]);
    expect(a).toEqual({ ifNoneMatch: true, ifMatch: true });
    expect(b).toBe(a);
    expect(await probe.support()).toBe(a);
    expect(results).toEqual([a]);
    expect(await keysUnder(handle.store, "glider-system-probe", PROBE_PREFIX)).toEqual([]);
  });

  it("lets exactly one of 8 racing conditional creates win", async () => {
    await handle.store.createBucket("race-bucket");
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        handle.store.putObject({
          bucket: "race-bucket",
          key: "one",
          body: Buffer.from(`writer ${i}`),
          ifNoneMatch: "*",
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "precondition_failed" });
    }
  });
});

describe("a backend that ignores conditional writes (stock s3rver)", () => {
  let s3: S3rverHandle;
  let store: ObjectStore;
  beforeAll(async () => {
    s3 = await startS3rver({ conditionalWrites: "ignore" });
    store = createS3StoreFor(s3);
    await store.createBucket("uploads");
  });
  afterAll(async () => {
    await store.close();
    await s3.stop();
  });

  it("is probed as ignoring both If-None-Match and If-Match", async () => {
    const probe = createConditionalWriteProbe(store, "glider-system-stock");
    expect(await probe.support()).toEqual({ ifNoneMatch: false, ifMatch: false });
    expect(await keysUnder(store, "glider-system-stock", PROBE_PREFIX)).toEqual([]);
  });

  describe("DeltaGlider uploads", () => {
    let dg: DeltaGlider;
    const versions = releaseVersions(200_000, 4, 11);
    beforeAll(() => {
      dg = createDeltaGlider(store, createMetrics(), {
        encodeThreads: 1,
        conditionalWrites: createConditionalWriteProbe(store, "glider-system-stock"),
      });
    });
    afterAll(() => dg.close());

    it("create one reference when uploads race into a new DeltaSpace, and every upload reads back", async () => {
      const keys = versions.map((_, i) => `race/app-1.${i}.zip`);
      const results = await Promise.all(keys.map((key, i) => dg.upload("uploads", key, versions[i])));
      expect(results.filter((r) => r.storedAs === "reference")).toHaveLength(1);
      const ref = readDgMetadata((await store.headObject("uploads", "race/reference.bin")).metadata);
      const creator = results.findIndex((r) => r.storedAs === "reference");
      expect(ref.fileSha256).toBe(sha256(versions[creator]));
      for (const [i, key] of keys.entries()) {
        const delta = readDgMetadata((await store.headObject("uploads", `${key}.delta`)).metadata);
        expect(delta.refSha256).toBe(ref.fileSha256);
        expect(sha256(await bytesOf((await dg.open("uploads", key)).body))).toBe(sha256(versions[i]));
      }
    });

    it("uses another writer's reference when it replaced ours right after our write", async () => {
      // A second instance (no lock shared with us) overwrites reference.bin just after our PUT lands.
      const foreign = versions[3];
      const racing: ObjectStore = {
        ...store,
        async putObject(input) {
          const out = await store.putObject(input);
          if (input.key === "other/reference.bin") {
            await store.putObject({
              bucket: input.bucket,
              key: input.key,
              body: foreign,
              metadata: referenceMetadata({ sourceName: "foreign.zip", sha256: sha256(foreign), now: new Date() }),
            });
          }
          return out;
        },
      };
      const other = createDeltaGlider(racing, createMetrics(), {
        encodeThreads: 1,
        conditionalWrites: createConditionalWriteProbe(store, "glider-system-stock"),
      });
      try {
        const result = await other.upload("uploads", "other/app-2.0.zip", versions[0]);
        expect(result.storedAs).toBe("delta");
        const delta = readDgMetadata((await store.headObject("uploads", "other/app-2.0.zip.delta")).metadata);
        expect(delta.refSha256).toBe(sha256(foreign));
        expect(sha256(await bytesOf((await other.open("uploads", "other/app-2.0.zip")).body))).toBe(
          sha256(versions[0]),
        );
      } finally {
        await other.close();
      }
    });
  });

  describe("the app", () => {
    let send: SendApp;
    let token: string;
    beforeAll(async () => {
      send = await buildSendApp({}, { store });
      token = (await issueToken(send.app)).secret;
    });
    afterAll(() => send.app.close());

    it("reports the probe in /ready, /metrics and refuses limited Send transfers with a typed error", async () => {
      const refused = await injectJson(send.app, {
        method: "POST",
        url: "/api/transfers/create",
        headers: bearer(token),
        payload: { size: 10, max_downloads: 1 },
      });
      expect(refused.status).toBe(422);
      expect(refused.body.error).toMatchObject({ code: "unsupported" });
      expect(refused.body.error.message).toMatch(/max_downloads: 0/);

      const unlimited = await injectJson(send.app, {
        method: "POST",
        url: "/api/transfers/create",
        headers: bearer(token),
        payload: { size: 10, max_downloads: 0 },
      });
      expect(unlimited.status).toBe(201);

      const ready = await injectJson(send.app, { method: "GET", url: "/ready" });
      expect(ready.status).toBe(200);
      expect(ready.body.checks.storage).toMatchObject({
        backend: "s3",
        conditional_writes: { if_none_match: false, if_match: false },
      });
      const metrics = await send.app.inject({ method: "GET", url: "/metrics", headers: admin });
      expect(metrics.body).toMatch(/glider_storage_conditional_writes\{backend="s3",condition="if_none_match"\} 0/);
      expect(metrics.body).toMatch(/glider_storage_conditional_writes\{backend="s3",condition="if_match"\} 0/);
    });
  });
});
