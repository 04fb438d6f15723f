import { mapWithConcurrency } from "../../src/services/concurrency.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";

/**
 * A generated DeltaGlider bucket for savings scans, written physical object by physical object (no encoding):
 * DeltaSpaces `apps/app-<n>/` with a `reference.bin` and `.delta` objects carrying DeltaGlider metadata, a root
 * DeltaSpace, DG direct files (`dg-compression: none`), foreign plain files, a housekeeping object, a plain key
 * beside its own `.delta` twin and a delta without `dg-file-size`. Bodies are small; original sizes live only in the
 * metadata, as with real deltas.
 */
export interface GeneratedObject {
  key: string;
  size: number;
  metadata: Record<string, string>;
}

export interface SavingsFigures {
  objectCount: number;
  originalBytes: number;
  storedBytes: number;
  savingsPct: number;
}

/** splitmix32: deterministic bucket contents for a seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

/** The physical objects of a bucket with about `logicalObjects` logical objects (exactly, for ≥ 100). */
export function planSavingsBucket(logicalObjects: number, seed = 1): GeneratedObject[] {
  const random = rng(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const hex = () => Array.from({ length: 8 }, () => int(0, 0xffffffff).toString(16).padStart(8, "0")).join("");
  const objects: GeneratedObject[] = [];
  const dg = { "dg-tool": "deltaglider/6.1.2", "dg-created-at": "2025-01-01T00:00:00Z" };

  const spaces = Math.max(2, Math.round(logicalObjects / 400));
  const references = new Map<string, string>();
  const reference = (space: string) => {
    let sha = references.get(space);
    if (!sha) {
      sha = hex();
      references.set(space, sha);
      objects.push({
        key: `${space}reference.bin`,
        size: int(2_048, 8_192),
        metadata: { ...dg, "dg-source-name": "first.zip", "dg-file-sha256": sha, "dg-note": "reference" },
      });
    }
    return sha;
  };
  const delta = (space: string, name: string, withSize = true) => {
    const refSha256 = reference(space);
    const size = int(16, 400);
    const metadata: Record<string, string> = {
      ...dg,
      "dg-original-name": name,
      "dg-file-sha256": hex(),
      "dg-ref-key": `${space}reference.bin`,
      "dg-ref-sha256": refSha256,
      "dg-delta-size": String(size),
      "dg-delta-cmd": "xdelta3 -e -9 -s reference.bin",
    };
    if (withSize) metadata["dg-file-size"] = String(int(1_000, 12_000));
    objects.push({ key: `${space}${name}.delta`, size, metadata });
  };

  // Fixed edge cases: 4 logical objects.
  objects.push({ key: ".deltaglider/stats_quick.json", size: 120, metadata: {} });
  objects.push({ key: "apps/app-0/twin.zip", size: 5_000, metadata: {} });
  delta("apps/app-0/", "twin.zip"); // hidden by its plain twin, still stored
  delta("apps/app-0/", "no-size.zip", false); // original size falls back to the stored size
  delta("", "root-1.0.0.zip");
  delta("", "root-1.0.1.zip");

  let made = 4;
  for (let i = 0; made < logicalObjects; i++) {
    const space = `apps/app-${i % spaces}/`;
    const roll = random();
    if (roll < 0.8) {
      delta(space, `build-${i}.zip`);
    } else if (roll < 0.9) {
      objects.push({
        key: `${space}notes-${i}.zip`,
        size: int(100, 4_000),
        metadata: { ...dg, "dg-original-name": `notes-${i}.zip`, "dg-file-sha256": hex(), "dg-compression": "none" },
      });
    } else {
      objects.push({ key: `docs/file-${i}.txt`, size: int(1, 3_000), metadata: {} });
    }
    made++;
  }
  return objects;
}

/** Writes the plan into `bucket` (created if missing) with `concurrency` PUTs in flight. */
export async function writeSavingsBucket(
  store: ObjectStore,
  bucket: string,
  plan: readonly GeneratedObject[],
  concurrency = 32,
): Promise<void> {
  if (!(await store.bucketExists(bucket))) await store.createBucket(bucket);
  const bodies = new Map<number, Uint8Array>();
  await mapWithConcurrency(plan, concurrency, async (object) => {
    let body = bodies.get(object.size);
    if (!body) {
      body = new Uint8Array(object.size).fill(0x61);
      bodies.set(object.size, body);
    }
    await store.putObject({ bucket, key: object.key, body, metadata: object.metadata });
  });
}

/**
 * The figures computed independently of the savings code: from the raw physical listing (ListObjectsV2, no
 * delimiter) and the metadata the generator wrote, following format doc §5.1 and the RFC's savings formula.
 */
export async function expectedSavings(
  store: ObjectStore,
  bucket: string,
  plan: readonly GeneratedObject[],
): Promise<SavingsFigures> {
  const metadata = new Map(plan.map((o) => [o.key, o.metadata]));
  const listed: { key: string; size: number }[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await store.listObjects({ bucket, continuationToken });
    for (const o of page.objects) listed.push({ key: o.key, size: o.size });
    continuationToken = page.nextContinuationToken;
  } while (continuationToken);

  const keys = new Set(listed.map((o) => o.key));
  let objectCount = 0;
  let originalBytes = 0;
  let storedBytes = 0;
  for (const { key, size } of listed) {
    storedBytes += size;
    if (key === "reference.bin" || key.endsWith("/reference.bin") || key.startsWith(".deltaglider/")) continue;
    if (key.endsWith(".delta")) {
      if (keys.has(key.slice(0, -".delta".length))) continue;
      const fileSize = metadata.get(key)?.["dg-file-size"];
      originalBytes += fileSize === undefined ? size : Number(fileSize);
    } else {
      originalBytes += size;
    }
    objectCount++;
  }
  const pct =
    originalBytes <= 0
      ? 0
      : Math.round(Math.min(100, Math.max(0, (1 - storedBytes / originalBytes) * 100)) * 100) / 100;
  return { objectCount, originalBytes, storedBytes, savingsPct: pct };
}
