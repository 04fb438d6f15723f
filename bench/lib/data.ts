import { createHash } from "node:crypto";
import { open, writeFile } from "node:fs/promises";
import type { RawObject } from "./s3.js";

/** splitmix32: deterministic data for a seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** `size` pseudo-random bytes (incompressible, like the compressed payload of a release zip). */
export function noise(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  const words = new Uint32Array(out.buffer, out.byteOffset, Math.floor(size / 4));
  // xorshift32 per word: ~10x faster than a call per byte, plenty random for a delta encoder.
  let s = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = (i * 131 + seed) & 0xff;
  return out;
}

/**
 * The next version of a release: about two edits per MB at seeded positions, each replacing, inserting or
 * deleting 16–512 bytes (inserts and deletes shift everything after them, as a rebuilt archive does).
 */
export function nextVersion(previous: Buffer, seed: number): Buffer {
  const next = rng(seed);
  const edits = Math.max(4, Math.round((previous.length / 1_000_000) * 2));
  const positions = Array.from({ length: edits }, () => next() % previous.length).sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let at = 0;
  for (const [i, position] of positions.entries()) {
    if (position < at) continue;
    parts.push(previous.subarray(at, position));
    const length = 16 + (next() % 497);
    const kind = next() % 4;
    const payload = noise(length, seed * 1000 + i);
    if (kind === 0) {
      parts.push(payload); // insert
      at = position;
    } else if (kind === 1) {
      at = Math.min(previous.length, position + length); // delete
    } else {
      parts.push(payload); // replace
      at = Math.min(previous.length, position + length);
    }
  }
  parts.push(previous.subarray(at));
  return Buffer.concat(parts);
}

export interface ReleaseFiles {
  /** First version (becomes the DeltaSpace's reference). */
  v1: string;
  /** Second version: scattered edits of v1. */
  v2: string;
  /** Size of v1 (v2 differs by the inserts and deletes). */
  size: number;
  sizeV2: number;
  sha256v2: string;
}

/** Writes two versions of a `size`-byte release into `dir` (deterministic for a seed). */
export async function writeReleases(dir: string, size: number, seed = 11): Promise<ReleaseFiles> {
  const v1 = noise(size, seed);
  const v2 = nextVersion(v1, seed + 1);
  const files = { v1: `${dir}/app-1.0.zip`, v2: `${dir}/app-1.1.zip` };
  await writeFile(files.v1, v1);
  await writeFile(files.v2, v2);
  return { ...files, size, sizeV2: v2.length, sha256v2: createHash("sha256").update(v2).digest("hex") };
}

/** A file of `size` pseudo-random bytes, written in 8 MB pieces. */
export async function writeNoiseFile(path: string, size: number, seed = 5): Promise<void> {
  const handle = await open(path, "w");
  try {
    const piece = 8_000_000;
    for (let offset = 0, i = 0; offset < size; offset += piece, i++) {
      await handle.write(noise(Math.min(piece, size - offset), seed + i));
    }
  } finally {
    await handle.close();
  }
}

/**
 * A DeltaGlider folder of `count` logical objects under `prefix`: a `reference.bin`, about 80 % `.delta` objects
 * with DeltaGlider metadata (dg-file-size, dg-file-sha256, dg-ref-key, dg-ref-sha256) and 20 % direct files.
 * Bodies are tiny; original sizes live in the metadata. Modification times are spread over a year in an order
 * unrelated to the names, so sorting by name and by modified date differ.
 */
export function* deltaFolder(prefix: string, count: number, seed = 3): Generator<RawObject> {
  const next = rng(seed);
  const hex = (n: number) => {
    let s = "";
    while (s.length < n) s += next().toString(16).padStart(8, "0");
    return s.slice(0, n);
  };
  const refSha = hex(64);
  const refKey = `${prefix}reference.bin`;
  const base = Date.UTC(2024, 0, 1);
  yield {
    key: refKey,
    body: new Uint8Array(64).fill(0x72),
    metadata: { "dg-tool": "deltaglider/6.1.2", "dg-file-sha256": refSha, "dg-note": "reference" },
    modified: new Date(base),
  };
  const bodies = Array.from({ length: 16 }, (_, i) => new Uint8Array(20 + i * 13).fill(0x61 + i));
  for (let i = 0; i < count; i++) {
    const modified = new Date(base + (next() % (365 * 24 * 3600)) * 1000);
    const body = bodies[next() % bodies.length];
    const name = `build-${String(i).padStart(6, "0")}`;
    if (next() % 10 < 8) {
      yield {
        key: `${prefix}${name}.zip.delta`,
        body,
        metadata: {
          "dg-tool": "deltaglider/6.1.2",
          "dg-original-name": `${name}.zip`,
          "dg-file-size": String(1_000_000 + (next() % 99_000_000)),
          "dg-file-sha256": hex(64),
          "dg-ref-key": refKey,
          "dg-ref-sha256": refSha,
          "dg-delta-size": String(body.length),
        },
        modified,
      };
    } else {
      yield { key: `${prefix}${name}.txt`, body, modified };
    }
  }
}
