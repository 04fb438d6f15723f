import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGrowingFile, finalSize, readGrowingFile } from "../../../src/services/deltaglider/growing-file.js";

describe("growing file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-growing-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of chunks) parts.push(Buffer.from(chunk));
    return Buffer.concat(parts);
  }

  it("yields bytes as they are written and ends when the writer finished", async () => {
    const path = join(dir, "a");
    await writeFile(path, "");
    const growing = createGrowingFile();
    const reading = collect(readGrowingFile(path, growing.shared, 1000));
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(700 + i, i));
    for (const part of parts) {
      await appendFile(path, part);
      growing.advance(part.length);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    expect(finalSize(growing.shared)).toBeUndefined();
    growing.finish();
    expect(await reading).toEqual(Buffer.concat(parts));
    expect(finalSize(growing.shared)).toBe(Buffer.concat(parts).length);
  });

  it("throws when the writer failed, and never reads past what was recorded", async () => {
    const path = join(dir, "b");
    await writeFile(path, Buffer.alloc(5000, 1));
    const growing = createGrowingFile();
    growing.advance(2000);
    const seen: number[] = [];
    const reading = (async () => {
      for await (const chunk of readGrowingFile(path, growing.shared)) seen.push(chunk.length);
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    growing.fail();
    await expect(reading).rejects.toThrow(/ended before its body was complete/);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(2000);
  });
});
