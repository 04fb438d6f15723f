import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deltaFolder } from "../../bench/lib/data.js";
import { createLeanPutClient, type LeanPutClient } from "../../bench/lib/s3-put.js";
import { createRgwTenant } from "../helpers/rgw.js";

/**
 * The listing bench writes its RGW folder with bench/lib/s3-put.ts instead of the SDK: the objects must be the ones
 * the SDK's PutObject makes (type, size, ETag, DeltaGlider metadata), with Last-Modified stamped by RGW.
 */
describe("the bench's lean S3 PUT on RGW", () => {
  let tenant: Awaited<ReturnType<typeof createRgwTenant>>;
  let sdk: S3Client;
  let lean: LeanPutClient;
  const bucket = "lean-put";

  beforeAll(async () => {
    tenant = await createRgwTenant();
    sdk = new S3Client({
      endpoint: tenant.endpoint,
      region: tenant.region,
      forcePathStyle: true,
      credentials: tenant.credentials,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    lean = createLeanPutClient({ ...tenant, sockets: 4 });
    await sdk.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    lean?.close();
    sdk?.destroy();
    await tenant?.remove();
  });

  const head = async (key: string) => {
    const out = await sdk.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { ...out, $metadata: undefined, LastModified: undefined, lastModified: out.LastModified };
  };

  it("writes a delta and a direct file exactly as the SDK's PutObject does", async () => {
    const objects = [...deltaFolder("releases/", 12)];
    const delta = objects.find((o) => o.key.endsWith(".delta"));
    const direct = objects.find((o) => o.key.endsWith(".txt"));
    expect(delta?.metadata?.["dg-file-size"]).toBeDefined();
    expect(direct).toBeDefined();
    for (const object of [delta, direct, objects[0]]) {
      if (!object) continue;
      const started = Date.now();
      await sdk.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `sdk/${object.key}`,
          Body: object.body,
          Metadata: object.metadata,
        }),
      );
      await lean.put(bucket, `lean/${object.key}`, object.body, object.metadata);
      const { lastModified: sdkModified, ...bySdk } = await head(`sdk/${object.key}`);
      const { lastModified, ...byLean } = await head(`lean/${object.key}`);
      expect(byLean).toEqual(bySdk);
      expect(byLean.Metadata).toEqual(object.metadata ?? {});
      // RGW's own clock (second resolution), not the generator's date.
      expect(lastModified?.getTime()).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 - 1000);
      expect(sdkModified).toBeDefined();
    }
  });

  it("signs keys that need escaping, and refuses metadata it cannot send as the SDK would", async () => {
    await lean.put(bucket, "odd/a b+c(1)*.zip.delta", new Uint8Array([1, 2, 3]), { "dg-note": "x y" });
    expect((await head("odd/a b+c(1)*.zip.delta")).ContentLength).toBe(3);
    await expect(lean.put(bucket, "odd/u", new Uint8Array(1), { "dg-note": "café" })).rejects.toThrow(/non-ASCII/);
  });

  it("reports a refused PUT with its status", async () => {
    await expect(lean.put("no-such-bucket-here", "k", new Uint8Array(1))).rejects.toThrow(/PUT .*: 404/);
  });
});
