import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, listen } from "../../helpers/app.js";

const MAX = 64 * 1024;

/** Every physical key in the bucket, so "nothing kept" covers references and deltas too. */
async function physicalKeys(app: FastifyInstance, bucket: string): Promise<string[]> {
  const page = await app.services.store.listObjects({ bucket });
  return page.objects.map((o) => o.key);
}

describe("UPLOAD_MAX_BYTES: DeltaGlider uploads are bounded while they stream (was: 1 GiB accepted)", () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildTestApp({ UPLOAD_MAX_BYTES: String(MAX) });
    base = await listen(app);
    await app.services.store.createBucket("limits");
  });
  afterAll(() => app.close());

  it("defaults to 5 GiB", async () => {
    const other = await buildTestApp();
    expect(other.services.config.limits.uploadMaxBytes).toBe(5 * 1024 ** 3);
    await other.close();
  });

  it("refuses a declared content-length over the limit with 413 before reading the body", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/upload?bucket=limits&key=a/app-1.0.zip",
      headers: { "content-type": "application/octet-stream" },
      payload: Buffer.alloc(MAX + 1),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe("payload_too_large");
    expect(await physicalKeys(app, "limits")).toEqual([]);
  });

  it("stops a chunked upload (no content-length) at byte limit + 1 with 413 and keeps nothing", async () => {
    const chunks = async function* () {
      for (let i = 0; i < 64; i++) {
        yield Buffer.alloc(16 * 1024, i);
      }
    };
    const res = await fetch(`${base}/api/upload?bucket=limits&key=b/app-1.0.zip`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Readable.from(chunks()) as unknown as BodyInit,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("payload_too_large");
    expect(await physicalKeys(app, "limits")).toEqual([]);
  });

  it("stops a multipart file over the limit with 413 and keeps nothing", async () => {
    const form = new FormData();
    form.set("bucket", "limits");
    form.set("key", "c/app-1.0.zip");
    form.set("file", new Blob([Buffer.alloc(MAX * 3, 7)]), "app-1.0.zip");
    const res = await fetch(`${base}/api/upload`, { method: "POST", body: form });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("payload_too_large");
    expect(await physicalKeys(app, "limits")).toEqual([]);
  });

  it("still accepts an upload at the limit", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/upload?bucket=limits&key=d/app-1.0.zip",
      headers: { "content-type": "application/octet-stream" },
      payload: Buffer.alloc(MAX, 1),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().original_bytes).toBe(MAX);
  });
});
