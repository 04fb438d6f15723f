import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareKeys } from "../../../src/services/storage/keys.js";
import { BACKENDS, type BackendHandle } from "../../helpers/backends.js";
import { getJson, postJson, startBrowseApp } from "../../helpers/browse-app.js";
import { expected } from "../../helpers/bucket-fixture.js";

const enc = (key: string) => key.split("/").map(encodeURIComponent).join("/");

describe.each(BACKENDS.filter((b) => b.name !== "memory"))("REST browse API on $name", (backend) => {
  let handle: BackendHandle;
  let app: FastifyInstance;
  let base: string;
  let clock = Date.now();
  beforeAll(async () => {
    handle = await backend.create();
    ({ app, base } = await startBrowseApp(handle.store, {}, { now: () => clock }));
  });
  afterAll(async () => {
    await app.close();
    await handle.cleanup();
  });

  it("lists buckets without the Send system bucket", async () => {
    const res = await getJson(base, "/api/buckets");
    expect(res.status).toBe(200);
    const names = res.body.buckets.map((b: { name: string }) => b.name);
    expect(names).toContain("fixture");
    expect(names).not.toContain("glider-system");
    expect(res.body.buckets.find((b: { name: string }) => b.name === "fixture")).toMatchObject({ pending: false });
  });

  it.each(Object.keys(expected.listings))("lists the folder %j like expected.json", async (prefix) => {
    const res = await getJson(base, `/api/objects?bucket=fixture&prefix=${encodeURIComponent(prefix)}&sort=name_asc`);
    expect(res.status).toBe(200);
    expect(res.body.objects.map((o: { key: string }) => o.key)).toEqual(expected.listings[prefix].objects);
    expect(res.body.common_prefixes).toEqual(expected.listings[prefix].common_prefixes);
    for (const o of res.body.objects) {
      const want = expected.objects.find((w) => w.key === o.key);
      expect(o).toMatchObject({
        original_bytes: want?.original_bytes,
        stored_bytes: want?.stored_bytes_own,
        compressed: want?.compressed,
      });
      expect(Number.isNaN(Date.parse(o.modified))).toBe(false);
    }
  });

  it("serves metadata for keys with slashes, spaces, '+', unicode and '%'", async () => {
    for (const want of expected.objects) {
      const res = await getJson(base, `/api/objects/fixture/${enc(want.key)}/metadata`);
      expect(res.status, want.key).toBe(200);
      expect(res.body).toMatchObject({
        key: want.key,
        original_bytes: want.original_bytes,
        stored_bytes: want.stored_bytes_own,
        compressed: want.compressed,
        accept_ranges: false,
      });
    }
    const missing = await getJson(base, "/api/objects/fixture/nope%20%25.zip/metadata");
    expect(missing).toMatchObject({ status: 404, body: { error: { code: "key_not_found" } } });
    const noBucket = await getJson(base, "/api/objects?bucket=does-not-exist");
    expect(noBucket).toMatchObject({ status: 404, body: { error: { code: "bucket_not_found" } } });
  });

  it("downloads every restorable object with its sha256, headers and a refused tampered token", async () => {
    for (const want of expected.objects) {
      const prep = await postJson(base, "/api/download/prepare", { bucket: "fixture", key: want.key });
      expect(prep.status, want.key).toBe(200);
      expect(prep.body.estimated_bytes).toBe(want.original_bytes);
      const res = await fetch(`${base}/api/download/${prep.body.download_token}`);
      if (!want.restorable) {
        expect(res.status).toBe(400);
        expect((await res.json()).error.code).toBe("integrity_failed");
        continue;
      }
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(want.sha256);
      expect(res.headers.get("content-length")).toBe(String(want.original_bytes));
      expect(res.headers.get("accept-ranges")).toBe("none");
      if (want.kind !== "plain") expect(res.headers.get("x-dg-logical-etag")).toBe(want.sha256);
      expect(res.headers.get("content-disposition")).toContain("attachment;");
    }
    const prep = await postJson(base, "/api/download/prepare", { bucket: "fixture", key: "README.txt" });
    const token: string = prep.body.download_token;
    const forged = `${token.slice(0, -2)}${token.endsWith("A") ? "B" : "A"}A`;
    expect(await getJson(base, `/api/download/${forged}`)).toMatchObject({
      status: 403,
      body: { error: { code: "download_token_invalid" } },
    });
    clock += 6 * 60_000;
    expect(await getJson(base, `/api/download/${token}`)).toMatchObject({
      status: 401,
      body: { error: { code: "download_token_expired" } },
    });
    clock = Date.now();
  });

  it("names non-ASCII downloads with RFC 6266 filename*", async () => {
    await fetch(`${base}/api/upload?bucket=fixture&key=${encodeURIComponent("notes/résumé ✓.txt")}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: "hello",
    });
    const prep = await postJson(base, "/api/download/prepare", { bucket: "fixture", key: "notes/résumé ✓.txt" });
    const res = await fetch(`${base}/api/download/${prep.body.download_token}`);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="r_sum_ _.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%9C%93.txt`,
    );
    expect(await res.text()).toBe("hello");
  });

  it("validates every parameter and names the failing one", async () => {
    const cases: [string, string, string][] = [
      ["/api/objects", "invalid_request", "bucket"],
      ["/api/objects?bucket=fixture&limit=0", "invalid_request", "limit"],
      ["/api/objects?bucket=fixture&limit=abc", "invalid_request", "limit"],
      ["/api/objects?bucket=fixture&sort=bogus", "invalid_request", "sort"],
      ["/api/objects?bucket=fixture&order=up", "invalid_request", "order"],
      ["/api/objects?bucket=fixture&compressed=maybe", "invalid_request", "compressed"],
      ["/api/objects?bucket=fixture&cursor=forged.cursor", "invalid_cursor", "cursor"],
    ];
    for (const [path, code, parameter] of cases) {
      const res = await getJson(base, path);
      expect(res.status, path).toBe(400);
      expect(res.body.error.code, path).toBe(code);
      expect(JSON.stringify(res.body.error.details), path).toContain(parameter);
    }
    const prep = await postJson(base, "/api/download/prepare", { bucket: "fixture" });
    expect(prep).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
  });

  it("uploads (raw and multipart) and deletes, invalidating the cached listing", async () => {
    const before = await getJson(base, "/api/objects?bucket=fixture&prefix=apps/viewer/&sort=name_asc");
    expect(before.body.objects).toHaveLength(5);
    const zip = Buffer.alloc(200_000, 7);
    const raw = await fetch(`${base}/api/upload?bucket=fixture&key=${encodeURIComponent("apps/viewer/plain.bin")}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: zip,
    });
    expect(await raw.json()).toMatchObject({ status: "ok", key: "apps/viewer/plain.bin", stored_as: "direct" });
    const form = new FormData();
    form.set("bucket", "fixture");
    form.set("key", "apps/viewer/viewer-9.9.9.zip");
    form.set("file", new Blob([zip]), "viewer-9.9.9.zip");
    const multi = await fetch(`${base}/api/upload`, { method: "POST", body: form });
    const uploaded = await multi.json();
    expect(uploaded).toMatchObject({ status: "ok", key: "apps/viewer/viewer-9.9.9.zip", original_bytes: 200_000 });
    const after = await getJson(base, "/api/objects?bucket=fixture&prefix=apps/viewer/&sort=name_asc");
    expect(after.body.objects.map((o: { key: string }) => o.key)).toContain("apps/viewer/viewer-9.9.9.zip");
    expect(after.body.objects).toHaveLength(7);
    const del = await fetch(`${base}/api/objects/fixture/apps/viewer/viewer-9.9.9.zip`, { method: "DELETE" });
    expect(del.status).toBe(200);
    await fetch(`${base}/api/objects/fixture/apps/viewer/plain.bin`, { method: "DELETE" });
    const gone = await getJson(base, "/api/objects?bucket=fixture&prefix=apps/viewer/&sort=name_asc");
    expect(gone.body.objects).toHaveLength(5);
    const again = await fetch(`${base}/api/objects/fixture/apps/viewer/viewer-9.9.9.zip`, { method: "DELETE" });
    expect(again.status).toBe(404);
  });

  it("starts a savings job and reports one task per bucket", async () => {
    const first = await postJson(base, "/api/buckets/fixture/compute-savings", {});
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: "accepted", bucket: "fixture" });
    expect(typeof first.body.task_id).toBe("string");
    const missing = await postJson(base, "/api/buckets/nope-bucket/compute-savings", {});
    expect(missing).toMatchObject({ status: 404, body: { error: { code: "bucket_not_found" } } });
  });

  it("sorts keys in code-point order", async () => {
    const res = await getJson(base, "/api/objects?bucket=fixture&prefix=sdk/2.3/&sort=name_asc");
    const keys = res.body.objects.map((o: { key: string }) => o.key);
    expect(keys).toEqual([...keys].sort(compareKeys));
    expect(keys.indexOf("sdk/2.3/acme-sdk-2.3.2.zip")).toBeLessThan(
      keys.indexOf("sdk/2.3/acme-sdk-2.3.2.zip-manifest.json"),
    );
  });
});
