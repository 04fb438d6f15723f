import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BucketsDocument,
  ComputeSavingsDocument,
  DeleteObjectDocument,
  FolderDocument,
  NodeDocument,
  PrepareDownloadDocument,
  StoredObjectDocument,
} from "../../src/generated/graphql.js";
import { BACKENDS, type BackendHandle } from "../helpers/backends.js";
import { startBrowseApp } from "../helpers/browse-app.js";
import { expected } from "../helpers/bucket-fixture.js";
import { gql } from "../helpers/graphql.js";

describe.each(BACKENDS.filter((b) => b.name !== "memory"))("GraphQL browse API on $name", (backend) => {
  let handle: BackendHandle;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    handle = await backend.create();
    ({ app, base } = await startBrowseApp(handle.store));
  });
  afterAll(async () => {
    await app.close();
    await handle.cleanup();
  });

  it("lists buckets, hiding the system bucket", async () => {
    const { data, errors } = await gql(base, BucketsDocument);
    expect(errors).toBeUndefined();
    expect(data?.buckets.map((b) => b.name)).toContain("fixture");
    expect(data?.buckets.map((b) => b.name)).not.toContain("glider-system");
  });

  it.each(Object.keys(expected.listings))("lists the folder %j like expected.json", async (prefix) => {
    const { data, errors } = await gql(base, FolderDocument, { bucket: "fixture", prefix, sort: "NAME_ASC" });
    expect(errors).toBeUndefined();
    const objects = data?.bucket?.objects;
    expect(objects?.edges.map((e) => e.node.key)).toEqual(expected.listings[prefix].objects);
    expect(objects?.commonPrefixes).toEqual(expected.listings[prefix].common_prefixes);
    for (const { node } of objects?.edges ?? []) {
      const want = expected.objects.find((o) => o.key === node.key);
      expect(node).toMatchObject({
        bucket: "fixture",
        originalBytes: want?.original_bytes,
        storedBytes: want?.stored_bytes_own,
        compressed: want?.compressed,
        acceptRanges: false,
      });
    }
  });

  it("resolves objects with sha256, and node(id) round-trips Bucket and StoredObject", async () => {
    for (const want of expected.objects.slice(0, 12)) {
      const { data } = await gql(base, StoredObjectDocument, { bucket: "fixture", key: want.key });
      expect(data?.object).toMatchObject({ key: want.key, originalBytes: want.original_bytes });
      if (want.kind !== "plain") expect(data?.object?.sha256).toBe(want.sha256);
      const id = data?.object?.id as string;
      const node = await gql(base, NodeDocument, { id });
      expect(node.data?.node).toEqual({ id, __typename: "StoredObject", bucket: "fixture", key: want.key });
    }
    const missing = await gql(base, StoredObjectDocument, { bucket: "fixture", key: "nope.zip" });
    expect(missing).toEqual({ data: { object: null } });
    const buckets = await gql(base, BucketsDocument);
    const bucketId = buckets.data?.buckets.find((b) => b.name === "fixture")?.id as string;
    expect((await gql(base, NodeDocument, { id: bucketId })).data?.node).toEqual({
      id: bucketId,
      __typename: "Bucket",
      name: "fixture",
    });
    const many = await gql(base, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids: [bucketId, bucketId] });
    expect(many.data).toEqual({ nodes: [{ id: bucketId }, { id: bucketId }] });
    // An id that resolves to nothing nulls its own entry only.
    const unknownId = Buffer.from("Bucket:no-such-bucket").toString("base64");
    const partly = await gql(base, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids: [bucketId, unknownId] });
    expect(partly.data).toEqual({ nodes: [{ id: bucketId }, null] });
  });

  it("prepares a download whose URL streams the verified original", async () => {
    const want = expected.objects.find((o) => o.key === "apps/viewer/viewer-4.1.0.zip");
    const { data, errors } = await gql(base, PrepareDownloadDocument, { bucket: "fixture", key: want?.key ?? "" });
    expect(errors).toBeUndefined();
    expect(data?.prepareDownload.download.estimatedBytes).toBe(want?.original_bytes);
    const res = await fetch(`${base}${data?.prepareDownload.download.url}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(want?.sha256);
  });

  it("maps domain errors to extensions.code and masks the unexpected", async () => {
    const noBucket = await gql(base, FolderDocument, { bucket: "fixture", prefix: "\u0000" });
    expect(noBucket.errors?.[0].extensions?.code).toBe("invalid_prefix");
    const download = await gql(base, PrepareDownloadDocument, { bucket: "fixture", key: "nope.zip" });
    expect(download.errors?.[0].extensions?.code).toBe("key_not_found");
    const backward = await gql(base, '{ bucket(name: "fixture") { objects(last: 2) { totalCount } } }');
    // Listings page forward only, and the schema says so: `last`/`before` are not arguments at all.
    expect(backward.errors?.[0].message).toMatch(/Unknown argument "last"/);
    expect((await gql(base, FolderDocument, { bucket: "nope-bucket" })).data).toEqual({ bucket: null });
    const savings = await gql(base, ComputeSavingsDocument, { bucket: "nope-bucket" });
    expect(savings.errors?.[0].extensions?.code).toBe("bucket_not_found");
  });

  it("computes savings and deletes objects", async () => {
    const job = await gql(base, ComputeSavingsDocument, { bucket: "fixture" });
    expect(job.data?.computeSavings.job).toMatchObject({ bucket: "fixture" });
    await fetch(`${base}/api/upload?bucket=fixture&key=tmp/x.txt`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: "x",
    });
    expect((await gql(base, DeleteObjectDocument, { bucket: "fixture", key: "tmp/x.txt" })).data).toEqual({
      deleteObject: {
        deletedId: Buffer.from(`StoredObject:${JSON.stringify(["fixture", "tmp/x.txt"])}`).toString("base64"),
      },
    });
    const again = await gql(base, DeleteObjectDocument, { bucket: "fixture", key: "tmp/x.txt" });
    expect(again.errors?.[0].extensions?.code).toBe("key_not_found");
  });
});
