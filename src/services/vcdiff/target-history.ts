import { VcdiffError } from "./errors.js";
import type { SourceReader } from "./source-reader.js";

/** Earlier target windows, kept by reference, that VCD_TARGET windows may copy from. */
export class TargetHistory implements SourceReader {
  size = 0;
  private chunks: Uint8Array[] = [];
  private start = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.cap <= 0) {
      this.start = this.size;
      return;
    }
    this.chunks.push(chunk);
    // Drop the oldest chunk while the others still cover the last `cap` bytes.
    while (this.chunks.length > 1 && this.size - (this.start + this.chunks[0].length) >= this.cap) {
      this.start += this.chunks[0].length;
      this.chunks.shift();
    }
  }

  read(offset: number, length: number): Uint8Array {
    if (offset < this.start) {
      throw new VcdiffError(
        "limit_exceeded",
        `a VCD_TARGET window copies from target offset ${offset}, but only the last ${this.size - this.start} bytes are kept (maxTargetHistory)`,
      );
    }
    const out = new Uint8Array(length);
    let pos = this.start;
    let filled = 0;
    for (const chunk of this.chunks) {
      const from = Math.max(offset + filled - pos, 0);
      if (filled < length && from < chunk.length) {
        const n = Math.min(chunk.length - from, length - filled);
        out.set(chunk.subarray(from, from + n), filled);
        filled += n;
      }
      pos += chunk.length;
    }
    return out;
  }
}
