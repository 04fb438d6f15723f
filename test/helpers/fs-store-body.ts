/**
 * A put body that stops after its first chunk until `release` settles, calling `onInFlight` first. The chunk is
 * larger than a file stream's 16 KiB buffer, so the store's pipeline only asks for more once the chunk is written:
 * by then the temp file exists and holds it. A plain generator, not a Readable, which would read ahead.
 */
export async function* inFlightBody(
  bytes: Buffer,
  onInFlight: () => void,
  release: Promise<unknown>,
): AsyncGenerator<Uint8Array> {
  const half = bytes.length >> 1;
  yield bytes.subarray(0, half);
  onInFlight();
  await release;
  yield bytes.subarray(half);
}

/** What the child process writes: 256 KiB of a known pattern, so the parent can check every byte. */
export const CHILD_BODY = Buffer.alloc(256 * 1024, "glider-shared-dir ");
