import { open } from "node:fs/promises";
import { VcdiffError } from "./errors.js";

/**
 * Random access to the reference a delta was made against. `read` must return exactly `length` bytes. The decoder
 * may have several reads (of disjoint ranges) in progress at once.
 */
export interface SourceReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array> | Uint8Array;
  /**
   * Optional: fills all of `target` with the bytes from `offset` on. When present, the decoder reads into buffers
   * it reuses from window to window instead of calling `read` (worth it when `read` would copy anyway, as from a
   * file; a reader over memory is better off returning views from `read`).
   */
  readInto?(target: Uint8Array, offset: number): Promise<void> | void;
}

export function bufferSource(bytes: Uint8Array): SourceReader {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** A SourceReader over a file, reading only the ranges asked for. Call close() when done. */
export async function fileSource(path: string): Promise<SourceReader & { close(): Promise<void> }> {
  const handle = await open(path, "r");
  const { size } = await handle.stat();
  const readInto = async (target: Uint8Array, offset: number) => {
    let filled = 0;
    while (filled < target.length) {
      const { bytesRead } = await handle.read(target, filled, target.length - filled, offset + filled);
      if (bytesRead === 0) throw new VcdiffError("invalid_format", `source file ${path} is shorter than ${size} bytes`);
      filled += bytesRead;
    }
  };
  return {
    size,
    async read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      await readInto(out, offset);
      return out;
    },
    readInto,
    close: () => handle.close(),
  };
}
