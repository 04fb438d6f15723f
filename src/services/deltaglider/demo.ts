import type { Logger } from "pino";
import type { ObjectStore } from "../storage/object-store.js";
import type { DeltaGlider } from "./index.js";
import { buildZip } from "./zip-writer.js";

export const DEMO_BUCKET = "demo";

const WORDS =
  "glider delta reference window source target release build module config service handler stream bucket object".split(
    " ",
  );

function seeded(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

function text(seed: number, bytes: number): Buffer {
  const next = seeded(seed);
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const word = WORDS[Math.floor(next() * WORDS.length)];
    const piece = next() < 0.1 ? `${word}\n` : `${word} `;
    parts.push(piece);
    size += piece.length;
  }
  return Buffer.from(parts.join("").slice(0, bytes));
}

function noise(seed: number, bytes: number): Buffer {
  const next = seeded(seed);
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** Version v of a release archive: most files unchanged between versions, a few edited, one added per version. */
function releaseZip(product: string, seed: number, version: number, files: number): Buffer {
  const entries: { name: string; data: Uint8Array }[] = [];
  for (let f = 0; f < files; f++) {
    const changed = (f * 7 + version * 3) % 11 === 0 && version > 0;
    const data = f % 5 === 0 ? noise(seed + f, 24_000) : text(seed + f + (changed ? version * 1000 : 0), 18_000);
    entries.push({ name: `${product}/${f % 3 === 0 ? "lib" : "src"}/file-${String(f).padStart(3, "0")}.dat`, data });
  }
  for (let v = 1; v <= version; v++) entries.push({ name: `${product}/NEW-IN-${v}.txt`, data: text(seed + v, 2_000) });
  entries.push({ name: `${product}/VERSION`, data: Buffer.from(`${version}\n`) });
  return buildZip(entries);
}

/**
 * Seeds a `demo` bucket through the real upload path (references, deltas, direct files, nested folders), so a newcomer
 * sees real savings at once. Deterministic; skipped when the bucket exists.
 */
export async function seedDemoBucket(store: ObjectStore, deltaglider: DeltaGlider, logger: Logger): Promise<boolean> {
  if (await store.bucketExists(DEMO_BUCKET)) return false;
  await store.createBucket(DEMO_BUCKET);
  const started = performance.now();
  const uploads: [string, Buffer][] = [["README.txt", Buffer.from("Demo bucket seeded by Glider.\n")]];
  for (let v = 0; v < 4; v++) uploads.push([`releases/viewer/viewer-1.${v}.0.zip`, releaseZip("viewer", 11, v, 40)]);
  uploads.push(["releases/viewer/CHANGELOG.md", text(5, 3_000)]);
  for (let v = 0; v < 3; v++) uploads.push([`tools/cli/linux-x64/cli-2.${v}.zip`, releaseZip("cli", 23, v, 25)]);
  uploads.push(["tools/cli/linux-x64/SHA256SUMS", text(9, 400)]);
  uploads.push(["docs/guide/getting-started.txt", text(13, 6_000)]);
  for (let v = 0; v < 2; v++) uploads.push([`backups/2025/site-2025-0${v + 1}.zip`, releaseZip("site", 31, v, 20)]);
  for (const [key, body] of uploads) await deltaglider.upload(DEMO_BUCKET, key, body);
  logger.info(
    { bucket: DEMO_BUCKET, objects: uploads.length, ms: Math.round(performance.now() - started) },
    "seeded demo bucket",
  );
  return true;
}
