import { mapWithConcurrency } from "../../src/services/concurrency.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { prng } from "./releases.js";

export const DELTAS = 620;
export const DIRECTS = 480;

/**
 * Bucket `fixture`, folder `big/`: 1,100 logical objects (620 deltas with DeltaGlider metadata and seeded original
 * sizes, 480 direct files with non-ASCII names), a reference and three sub-folders, written straight to the store.
 */
export async function seedLargeFolder(store: ObjectStore): Promise<void> {
  await store.createBucket("fixture");
  const next = prng(42);
  const puts: (() => Promise<unknown>)[] = [];
  puts.push(() =>
    store.putObject({
      bucket: "fixture",
      key: "big/reference.bin",
      body: Buffer.alloc(10),
      metadata: { "dg-file-sha256": "0".repeat(64) },
    }),
  );
  for (let i = 0; i < DELTAS; i++) {
    const size = 1000 + Math.floor(next() * 1_000_000);
    puts.push(() =>
      store.putObject({
        bucket: "fixture",
        key: `big/release-${String(i).padStart(4, "0")}.zip.delta`,
        body: Buffer.alloc(1 + (i % 50)),
        metadata: {
          "dg-file-size": String(size),
          "dg-file-sha256": "1".repeat(64),
          "dg-ref-key": "big/reference.bin",
          "dg-ref-sha256": "0".repeat(64),
        },
      }),
    );
  }
  for (let i = 0; i < DIRECTS; i++) {
    puts.push(() => store.putObject({ bucket: "fixture", key: `big/Notes ${i} ü.txt`, body: Buffer.alloc(i % 300) }));
  }
  for (let i = 0; i < 3; i++)
    puts.push(() => store.putObject({ bucket: "fixture", key: `big/sub${i}/x`, body: Buffer.alloc(1) }));
  await mapWithConcurrency(puts, 16, (put) => put());
}
