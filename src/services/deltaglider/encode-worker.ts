import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { bufferSource, encodeVcdiff, openVcdiff } from "../vcdiff/index.js";

/** One delta to build off the main thread: encode the target file against the source, then prove it decodes. */
export interface EncodeTask {
  /** The reference bytes (a SharedArrayBuffer view: no copy) or a file holding them. */
  source: Uint8Array | { path: string };
  targetPath: string;
  deltaPath: string;
  appHeader: string;
  expectedSha256: string;
  expectedSize: number;
}

export interface EncodeResult {
  deltaSize: number;
  /** Milliseconds spent encoding and verifying. */
  encodeMs: number;
  verifyMs: number;
}

export default async function encodeTask(task: EncodeTask): Promise<EncodeResult> {
  const source = task.source instanceof Uint8Array ? task.source : new Uint8Array(await readFile(task.source.path));
  const started = performance.now();
  await pipeline(
    encodeVcdiff(source, createReadStream(task.targetPath, { highWaterMark: 1024 * 1024 }), {
      appHeader: task.appHeader,
      checksum: true,
    }),
    createWriteStream(task.deltaPath),
  );
  const encoded = performance.now();
  // DeltaGlider skips this check (format doc §8.9): a delta is stored only if it really rebuilds the upload.
  const reader = await openVcdiff(createReadStream(task.deltaPath));
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of reader.decode(bufferSource(source))) {
    hash.update(chunk);
    size += chunk.length;
  }
  const digest = hash.digest("hex");
  if (size !== task.expectedSize || digest !== task.expectedSha256) {
    throw new Error(`encoded delta does not rebuild the upload (${size} bytes, sha256 ${digest})`);
  }
  return {
    deltaSize: (await stat(task.deltaPath)).size,
    encodeMs: encoded - started,
    verifyMs: performance.now() - encoded,
  };
}
