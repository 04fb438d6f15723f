import { createHash, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCatalogue } from "../../../src/services/deltaglider/catalogue.js";
import { createHashPool, type HashPool } from "../../../src/services/deltaglider/hash-pool.js";
import { createReconstructor } from "../../../src/services/deltaglider/reconstruct.js";
import { createReferenceCache } from "../../../src/services/deltaglider/reference-cache.js";
import { GliderError } from "../../../src/services/errors.js";
import { createMetrics } from "../../../src/services/metrics.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { BACKENDS, type BackendHandle } from "../../helpers/backends.js";
import { expected, loadBucketFixture } from "../../helpers/bucket-fixture.js";
import { countingStore } from "../../helpers/counting-store.js";
import { settled } from "../../helpers/settle.js";

async function drain(body: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}

/** How the sha256 is computed: on the test's thread, or on a hashing thread from this size on. */
type Hashing = { pool: HashPool; minBytes?: number } | undefined;

function reconstructorFor(store: ObjectStore, verifyBufferBytes?: number, hashing?: Hashing) {
  const catalogue = createCatalogue(store);
  const references = createReferenceCache(store);
  return {
    references,
    reconstructor: createReconstructor(store, catalogue, references, createMetrics(), {
      verifyBufferBytes,
      hashPool: hashing?.pool,
      hashOffloadMinBytes: hashing?.minBytes,
    }),
  };
}

/** Outcome of a full read: bytes, or the error code — from open() or from the stream. */
async function download(store: ObjectStore, key: string, verifyBufferBytes?: number, hashing?: Hashing) {
  const { reconstructor } = reconstructorFor(store, verifyBufferBytes, hashing);
  let bytesBeforeError = 0;
  try {
    const r = await reconstructor.open("fixture", key);
    const hash = createHash("sha256");
    for await (const chunk of r.body) {
      bytesBeforeError += chunk.length;
      hash.update(chunk);
    }
    return { ok: true as const, sha256: hash.digest("hex"), size: bytesBeforeError, declared: r.size };
  } catch (error) {
    if (!(error instanceof GliderError)) throw error;
    return { ok: false as const, code: error.code, bytesBeforeError };
  }
}

describe.each(BACKENDS)("reconstruction of the DeltaGlider fixture on $name", (backend) => {
  let handle: BackendHandle;
  beforeAll(async () => {
    handle = await backend.create();
    await loadBucketFixture(handle.store, "fixture");
  });
  // Every object also through the hashing thread (from 0 bytes on): the same bytes, the same refusals.
  const pool = createHashPool();
  afterAll(async () => {
    await pool.close();
    await handle.cleanup();
  });

  it.each(expected.objects.map((o) => [o.key, o] as const))("%s", async (_key, want) => {
    for (const [verifyBufferBytes, hashing] of [
      [undefined, undefined],
      [0, undefined],
      [undefined, { pool, minBytes: 0 }],
      [0, { pool, minBytes: 0 }],
    ] as const) {
      const got = await download(handle.store, want.key, verifyBufferBytes, hashing);
      if (want.restorable) {
        expect(got).toEqual({
          ok: true,
          sha256: want.sha256,
          size: want.original_bytes,
          declared: want.original_bytes,
        });
      } else {
        // Never a complete-looking wrong file: a clean error before the first byte, or a stream error after some.
        expect(got.ok).toBe(false);
        expect(got).toMatchObject({ code: "integrity_failed" });
      }
    }
  });
});

describe("integrity and sharing", () => {
  let handle: BackendHandle;
  const fixtureKey = "apps/viewer/viewer-4.1.1.zip";
  const want = expected.objects.find((o) => o.key === fixtureKey);
  const pool = createHashPool();
  beforeAll(async () => {
    handle = await BACKENDS[0].create();
    await loadBucketFixture(handle.store, "fixture");
  });
  afterAll(async () => {
    await pool.close();
    await handle.cleanup();
  });

  async function tamper(key: string, mutate: (bytes: Buffer, meta: Record<string, string>) => void) {
    const original = await handle.store.getObject({ bucket: "fixture", key });
    const chunks: Buffer[] = [];
    for await (const c of original.body) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const metadata = { ...original.head.metadata };
    mutate(body, metadata);
    await handle.store.putObject({ bucket: "fixture", key, body, metadata });
    return async () => {
      await loadBucketFixture(handle.store, "fixture");
    };
  }

  it.each([
    [
      "a byte of the delta",
      `${fixtureKey}.delta`,
      (b: Buffer) => {
        b[b.length - 3] ^= 0xff;
      },
    ],
    [
      // The VCDIFF magic: the header is parsed before any window, outside the per-window translation.
      "the delta header's magic",
      `${fixtureKey}.delta`,
      (b: Buffer) => {
        b[0] ^= 0xff;
      },
    ],
    [
      "a byte of the reference",
      "apps/viewer/reference.bin",
      (b: Buffer) => {
        b[1000] ^= 0x01;
      },
    ],
    [
      "the recorded file sha256",
      `${fixtureKey}.delta`,
      (_b: Buffer, m: Record<string, string>) => {
        m["dg-file-sha256"] = "0".repeat(64);
      },
    ],
  ])(
    "flipping %s fails with integrity_failed, streamed or buffered, hashed here or on the thread",
    async (what, key, mutate) => {
      const restore = await tamper(key, mutate);
      try {
        // With a pool and no minimum, the sha256 goes to the thread, buffered or streamed.
        for (const hashing of [undefined, { pool, minBytes: 0 }]) {
          for (const verifyBufferBytes of [undefined, 0]) {
            const opened = pool.streamsOpened;
            const got = await download(handle.store, fixtureKey, verifyBufferBytes, hashing);
            expect(got).toMatchObject({ ok: false, code: "integrity_failed" });
            if (got.ok) continue;
            // Buffered: a clean error before the first byte. Streamed: never the whole file, the last chunk is held.
            if (verifyBufferBytes === undefined) expect(got.bytesBeforeError).toBe(0);
            else expect(got.bytesBeforeError).toBeLessThan(want?.original_bytes ?? 0);
            // A wrong recorded sha256 is caught by the hash alone (the others fail earlier, in the reference's own
            // check or the codec): with a pool, that hash ran on the thread.
            if (what === "the recorded file sha256") expect(pool.streamsOpened).toBe(hashing ? opened + 1 : opened);
            if (!hashing) expect(pool.streamsOpened).toBe(opened);
          }
        }
        await pool.drained();
        expect(pool.openStreams).toBe(0);
      } finally {
        await restore();
      }
    },
  );

  it("hashes an object verified before its first byte on this thread by default, and still refuses a wrong sha256", async () => {
    // Default sizes: verified whole up to 8 MiB, and only larger (streamed) objects go to the thread.
    const opened = pool.streamsOpened;
    expect(await download(handle.store, fixtureKey, undefined, { pool })).toEqual({
      ok: true,
      sha256: want?.sha256,
      size: want?.original_bytes,
      declared: want?.original_bytes,
    });
    const restore = await tamper(`${fixtureKey}.delta`, (_b, m) => {
      m["dg-file-sha256"] = "0".repeat(64);
    });
    try {
      const got = await download(handle.store, fixtureKey, undefined, { pool });
      expect(got).toEqual({ ok: false, code: "integrity_failed", bytesBeforeError: 0 });
      expect(pool.streamsOpened).toBe(opened);
      // The same object streamed (nothing verified before the first byte) is hashed on the thread by default.
      const streamed = await download(handle.store, fixtureKey, 0, { pool });
      expect(streamed).toMatchObject({ ok: false, code: "integrity_failed" });
      expect(pool.streamsOpened).toBe(opened + 1);
    } finally {
      await restore();
    }
  });

  it("hashes a large plain object on this thread: its chunks are not shared memory, and copying costs more", async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const sha = createHash("sha256").update(bytes).digest("hex");
    await handle.store.putObject({ bucket: "fixture", key: "plain/large.bin", body: bytes });
    const opened = pool.streamsOpened;
    for (const verifyBufferBytes of [undefined, 0]) {
      const got = await download(handle.store, "plain/large.bin", verifyBufferBytes, { pool });
      expect(got).toMatchObject({ ok: true, size: bytes.length });
    }
    // A plain object has no sha256 to check; a DeltaGlider direct file records one: it is checked, here.
    await handle.store.putObject({
      bucket: "fixture",
      key: "plain/large.bin",
      body: bytes,
      metadata: { "dg-file-sha256": sha, "dg-file-size": String(bytes.length), "dg-compression": "none" },
    });
    const got = await download(handle.store, "plain/large.bin", 0, { pool });
    expect(got).toMatchObject({ ok: true, sha256: sha, size: bytes.length });
    expect(pool.streamsOpened).toBe(opened);
  });

  it("fails a streamed download, never completes it, when the hashing thread stops before the digest", async () => {
    const own = createHashPool();
    const { reconstructor } = reconstructorFor(handle.store, 0, { pool: own });
    const r = await reconstructor.open("fixture", fixtureKey);
    let size = 0;
    const read = (async () => {
      for await (const chunk of r.chunks) {
        size += chunk.bytes.length;
        chunk.release();
        // Mid-stream, the thread goes away (a crash, or the app closing under a download).
        if (own.threadRunning && size > 0) await own.close();
      }
    })();
    await expect(read).rejects.toThrow(/sha256 thread/);
    expect(size).toBeLessThan(want?.original_bytes ?? 0);
    expect(own.threadRunning).toBe(false);
  });

  it("20 parallel downloads sharing one reference load it once", async () => {
    const counting = countingStore(handle.store);
    const { reconstructor, references } = reconstructorFor(counting.store, 0);
    const keys = ["apps/viewer/viewer-4.0.1.zip", "apps/viewer/viewer-4.1.0.zip", fixtureKey];
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => drain((await reconstructor.open("fixture", keys[i % 3])).body)),
    );
    expect(results.every((r) => r.size > 1_000_000)).toBe(true);
    expect(counting.gets["apps/viewer/reference.bin"]).toBe(1);
    expect(references.loads).toBe(1);
    expect(results[2].sha256).toBe(want?.sha256);
  });

  it("shares one recycled window buffer among parallel zero-copy downloads without mixing their bytes", async () => {
    const catalogue = createCatalogue(handle.store);
    const references = createReferenceCache(handle.store);
    // A budget below one window: a single slot, so every window of every download reuses the same buffer.
    const reconstructor = createReconstructor(handle.store, catalogue, references, createMetrics(), {
      verifyBufferBytes: 0,
      windowBudgetBytes: 1,
    });
    const keys = ["apps/viewer/viewer-4.1.0.zip", fixtureKey];
    const results = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const r = await reconstructor.open("fixture", keys[i % 2]);
        const hash = createHash("sha256");
        let size = 0;
        let recycled = 0;
        for await (const chunk of r.chunks) {
          if (chunk.recycled) recycled++;
          // Hold the chunk across an event-loop turn, as a slow socket would; the other downloads run meanwhile and
          // may not write into it.
          await settled();
          hash.update(chunk.bytes);
          size += chunk.bytes.length;
          chunk.release();
        }
        return { key: keys[i % 2], sha256: hash.digest("hex"), size, recycled };
      }),
    );
    for (const result of results) {
      const wanted = expected.objects.find((o) => o.key === result.key);
      expect(result).toMatchObject({ sha256: wanted?.sha256, size: wanted?.original_bytes });
      expect(result.recycled).toBeGreaterThan(0);
    }
  });

  it("spills references larger than the memory cap to a temp file and still restores", async () => {
    const catalogue = createCatalogue(handle.store);
    const references = createReferenceCache(handle.store, { maxBytes: 1024 });
    const reconstructor = createReconstructor(handle.store, catalogue, references, createMetrics());
    const r = await reconstructor.open("fixture", fixtureKey);
    expect(await drain(r.body)).toEqual({ sha256: want?.sha256, size: want?.original_bytes });
  });
});
