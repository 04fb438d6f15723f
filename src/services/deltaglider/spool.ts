import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { iterateBody } from "../storage/body.js";
import type { PutBody } from "../storage/object-store.js";
import type { GrowingFile } from "./growing-file.js";

/** An upload's body, received in full into the upload's private folder. */
export interface Spooled {
  /** The spool file. */
  path: string;
  size: number;
  /** Hex sha256 of the bytes, computed as they arrived. */
  sha256: string;
}

/**
 * Writes the body to `dir/upload`, hashing it on the way. With `growing`, an encoder may read the file while it
 * grows: each chunk is counted once it is in the file, and the file is marked failed or finished at the end.
 */
export async function spool(body: PutBody, dir: string, signal?: AbortSignal, growing?: GrowingFile): Promise<Spooled> {
  const path = join(dir, "upload");
  const hash = createHash("sha256");
  let size = 0;
  const file = createWriteStream(path);
  // Failures reach the write and end callbacks below; a write still pending when the upload is cancelled (Ctrl-C)
  // would otherwise also be emitted as an unhandled 'error' event and crash the process.
  file.on("error", () => undefined);
  // Counts bytes once they are in the file, for an encoder reading it as it grows.
  const counted = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      file.write(chunk, (error) => {
        if (!error) growing?.advance(chunk.length);
        callback(error);
      });
    },
    final(callback) {
      file.end(callback);
    },
    destroy(error, callback) {
      file.destroy();
      callback(error);
    },
  });
  try {
    await pipeline(
      iterateBody(body),
      async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      counted,
      { signal },
    );
  } catch (error) {
    growing?.fail();
    throw error;
  }
  growing?.finish();
  return { path, size, sha256: hash.digest("hex") };
}
