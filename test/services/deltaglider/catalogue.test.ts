import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCatalogue } from "../../../src/services/deltaglider/catalogue.js";
import { BACKENDS, type BackendHandle } from "../../helpers/backends.js";
import { expected, loadBucketFixture } from "../../helpers/bucket-fixture.js";
import { countingStore } from "../../helpers/counting-store.js";

describe.each(BACKENDS)("logical catalogue of the DeltaGlider fixture on $name", (backend) => {
  let handle: BackendHandle;
  beforeAll(async () => {
    handle = await backend.create();
    await loadBucketFixture(handle.store, "fixture");
  });
  afterAll(() => handle.cleanup());

  it.each(Object.keys(expected.listings))("lists the prefix %j exactly as expected.json", async (prefix) => {
    const catalogue = createCatalogue(handle.store);
    const listing = await catalogue.list("fixture", prefix);
    expect(listing.objects.map((o) => o.key)).toEqual(expected.listings[prefix].objects);
    expect(listing.commonPrefixes).toEqual(expected.listings[prefix].common_prefixes);
    for (const o of listing.objects) {
      expect(o.key).not.toMatch(/(^|\/)reference\.bin$|\.delta$/);
    }
  });

  it("gives every object its stored size and, with metadata, its original size, sha256 and physical keys", async () => {
    const catalogue = createCatalogue(handle.store);
    const seen: string[] = [];
    for await (const page of catalogue.walk("fixture", "")) {
      const described = await catalogue.describeMany("fixture", page.entries);
      for (const object of described) {
        const want = expected.objects.find((o) => o.key === object.key);
        expect(want, object.key).toBeDefined();
        if (!want) continue;
        seen.push(object.key);
        expect(object.compressed).toBe(want.compressed);
        expect(object.storedBytes).toBe(want.stored_bytes_own);
        expect(object.originalBytes).toBe(want.original_bytes);
        expect(object.physicalKeys).toEqual(want.physical_keys);
        expect(object.kind).toBe(want.kind === "direct-dg" ? "direct" : want.kind);
        if (want.kind !== "plain") expect(object.sha256).toBe(want.sha256);
      }
    }
    expect(seen.sort()).toEqual(expected.objects.map((o) => o.key).sort());
  });

  it("lists without a single HEAD and resolves keys like DeltaGlider's reads", async () => {
    const counting = countingStore(handle.store);
    const catalogue = createCatalogue(counting.store);
    await catalogue.list("fixture", "apps/viewer/");
    expect(counting.calls.headObject).toBe(0);
    const resolved = await catalogue.resolve("fixture", "apps/viewer/viewer-4.0.1.zip");
    expect(resolved.physicalKey).toBe("apps/viewer/viewer-4.0.1.zip.delta");
    await expect(catalogue.resolve("fixture", "apps/viewer/reference.bin")).rejects.toMatchObject({
      code: "key_not_found",
    });
    await expect(catalogue.resolve("fixture", "apps/viewer/nope.zip")).rejects.toMatchObject({
      code: "key_not_found",
    });
  });
});
