import { describe, expect, it } from "vitest";
import { copiedChunks, leasedToReadable, ownedChunk, sharedBuffer } from "../../src/services/leased-chunks.js";

async function* from<T>(items: T[]) {
  yield* items;
}

describe("leased chunks", () => {
  it("copies recycled chunks and releases them at once, passes owned ones through", async () => {
    let freed = 0;
    const buffer = Buffer.from("abcdef");
    const shared = sharedBuffer(() => freed++);
    const leased = [
      shared.chunk(buffer.subarray(0, 3)),
      ownedChunk(Buffer.from("xyz")),
      shared.chunk(buffer.subarray(3)),
    ];
    shared.done();
    const out: Uint8Array[] = [];
    for await (const chunk of copiedChunks(from(leased))) out.push(chunk);
    expect(freed).toBe(1);
    buffer.fill(0);
    expect(Buffer.concat(out).toString()).toBe("abcxyzdef");
    expect(out[1]).toBe(leased[1].bytes);
  });

  it("frees a shared buffer once, after the producer and all chunks are done", () => {
    let freed = 0;
    const shared = sharedBuffer(() => freed++);
    const a = shared.chunk(new Uint8Array(1));
    a.release();
    expect(freed).toBe(0);
    shared.done();
    expect(freed).toBe(1);
    a.release();
    expect(freed).toBe(1);
  });

  it("reads as a byte stream", async () => {
    const shared = sharedBuffer(() => {});
    const body = leasedToReadable(from([shared.chunk(Buffer.from("he")), shared.chunk(Buffer.from("llo"))]));
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(part as Buffer);
    expect(Buffer.concat(parts).toString()).toBe("hello");
  });
});
