import { createReadStream, createWriteStream } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { bufferSource, EncoderInvariantError, encodeVcdiff, isVcdiffError, openVcdiff } from "../vcdiff/index.js";
import { finalSize, readGrowingFile } from "./growing-file.js";

/** One delta to build off the main thread: encode the target file against the source, then prove it decodes. */
export interface EncodeTask {
  /** The reference bytes (a SharedArrayBuffer view: no copy) or a file holding them. */
  source: Uint8Array | { path: string };
  targetPath: string;
  deltaPath: string;
  appHeader: string;
  /** Size of the target; with `growing`, the size it has once its writer finished. */
  expectedSize?: number;
  /** The target is still being written (see growing-file.ts): encode what has arrived, and wait for the rest. */
  growing?: SharedArrayBuffer;
}

export interface EncodeResult {
  deltaSize: number;
  /** Milliseconds spent encoding and verifying. */
  encodeMs: number;
  verifyMs: number;
  /**
   * Set when the encoder broke one of its invariants or the delta failed its proof (it does not decode, or does not
   * rebuild the upload): the delta file must not be stored. The caller stores the upload whole instead.
   */
  proofFailure?: string;
}

/** The delta does not rebuild the upload. */
export class ProofError extends Error {
  override readonly name = "ProofError";
}

/** An encoder bug or a delta its own decoder refuses, as opposed to an I/O failure or an aborted upload. */
function isProofFailure(error: unknown): error is Error {
  return error instanceof EncoderInvariantError || error instanceof ProofError || isVcdiffError(error);
}

export default async function encodeTask(task: EncodeTask): Promise<EncodeResult> {
  const source = task.source instanceof Uint8Array ? task.source : new Uint8Array(await readFile(task.source.path));
  const started = performance.now();
  const target = task.growing
    ? readGrowingFile(task.targetPath, task.growing)
    : createReadStream(task.targetPath, { highWaterMark: 1024 * 1024 });
  let encoded = started;
  let proofFailure: string | undefined;
  try {
    await pipeline(
      encodeVcdiff(source, target, {
        appHeader: task.appHeader,
        checksum: true,
      }),
      createWriteStream(task.deltaPath),
    );
    encoded = performance.now();
    const expectedSize = task.growing ? finalSize(task.growing) : task.expectedSize;
    if (expectedSize === undefined) throw new Error("the target's size is unknown");
    await verifyRebuilds({ ...task, expectedSize }, source);
  } catch (error) {
    if (!isProofFailure(error)) throw error;
    proofFailure = error.message;
  }
  return {
    deltaSize: (await stat(task.deltaPath)).size,
    encodeMs: encoded - started,
    verifyMs: performance.now() - encoded,
    ...(proofFailure === undefined ? {} : { proofFailure }),
  };
}

/**
 * DeltaGlider skips this check (format doc §8.9): a delta is stored only if it really rebuilds the upload. The
 * decoded windows are compared with the spooled upload (whose sha256 was taken as it arrived) rather than hashed
 * again: a compare runs at memory speed, a second sha256 at a fifth of it. One window buffer serves every window.
 */
export async function verifyRebuilds(
  task: Pick<EncodeTask, "deltaPath" | "targetPath"> & { expectedSize: number },
  source: Uint8Array,
): Promise<void> {
  let window = Buffer.alloc(0);
  const reader = await openVcdiff(createReadStream(task.deltaPath), {
    lookahead: false,
    maxTargetHistory: 0,
    verifyChecksum: false,
    allocateWindow: (length) => {
      if (window.length < length) window = Buffer.allocUnsafeSlow(length);
      return window;
    },
  });
  const target = await open(task.targetPath, "r");
  try {
    let expected = Buffer.alloc(0);
    let offset = 0;
    for await (const chunk of reader.decode(bufferSource(source))) {
      if (expected.length < chunk.length) expected = Buffer.allocUnsafeSlow(chunk.length);
      const { bytesRead } = await target.read(expected, 0, chunk.length, offset);
      if (bytesRead !== chunk.length || !expected.subarray(0, chunk.length).equals(chunk)) {
        throw new ProofError(
          `encoded delta does not rebuild the upload (differs within bytes ${offset}–${offset + chunk.length})`,
        );
      }
      offset += chunk.length;
    }
    if (offset !== task.expectedSize) {
      throw new ProofError(`encoded delta rebuilds ${offset} bytes, the upload has ${task.expectedSize}`);
    }
  } finally {
    await target.close();
  }
}
