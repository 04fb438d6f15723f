import { SMALL_COPY } from "./source-cache.js";

/**
 * Copies within the target window; `from < to`, and the ranges may overlap (a repeating pattern). Copying a COPY in
 * pieces, each continuing at `from + n, to + n`, gives the same bytes as one call: the result is the byte-by-byte
 * forward copy either way.
 */
export function copyTarget(out: Uint8Array, from: number, to: number, size: number): void {
  if (size < SMALL_COPY) {
    for (let k = 0; k < size; k++) out[to + k] = out[from + k];
    return;
  }
  if (from + size <= to) {
    out.copyWithin(to, from, from + size);
    return;
  }
  // Overlap: the output repeats with period d = to - from. Copy the written periodic prefix forward, doubling.
  let written = 0;
  let available = to - from;
  while (written < size) {
    const n = Math.min(size - written, available);
    out.copyWithin(to + written, from, from + n);
    written += n;
    available += n;
  }
}
