import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { BUCKET_FIXTURE } from "./shared.js";

export interface PhysicalEntry {
  key: string;
  file: string;
  size: number;
  content_type: string | null;
  metadata: Record<string, string>;
}

export interface ExpectedObject {
  key: string;
  kind: "delta" | "direct-dg" | "plain";
  original_bytes: number;
  sha256: string;
  compressed: boolean;
  physical_keys: string[];
  stored_bytes_own: number;
  restorable: boolean;
  reference_key?: string;
  zero_diff?: boolean;
}

export interface ExpectedBucket {
  totals: {
    logical_objects: number;
    original_bytes: number;
    stored_bytes: number;
    savings_pct: number;
    deltas: number;
    directs: number;
  };
  objects: ExpectedObject[];
  listings: Record<string, { objects: string[]; common_prefixes: string[] }>;
}

export const physical: PhysicalEntry[] = JSON.parse(readFileSync(join(BUCKET_FIXTURE, "physical.json"), "utf8"));
export const expected: ExpectedBucket = JSON.parse(readFileSync(join(BUCKET_FIXTURE, "expected.json"), "utf8"));

/** Loads the DeltaGlider-written bucket into any store, as its README describes. */
export async function loadBucketFixture(store: ObjectStore, bucket: string): Promise<void> {
  await store.createBucket(bucket);
  for (const entry of physical) {
    await store.putObject({
      bucket,
      key: entry.key,
      body: await readFile(join(BUCKET_FIXTURE, entry.file)),
      contentType: entry.content_type ?? undefined,
      metadata: entry.metadata,
    });
  }
}
