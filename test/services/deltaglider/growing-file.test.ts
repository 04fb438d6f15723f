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

  /** Reads the growing file in the background; `reached(n)` settles once n bytes were yielded (or reading ended). */
  function reader(chunks: AsyncIterable<Uint8Array>) {
    const parts: Buffer[] = [];
    let total = 0;
    const waiters: { at: number; resolve: () => void }[] = [];
    const done = (async () => {
      for await (const chunk of chunks) {
        parts.push(Buffer.from(chunk));
        total += chunk.length;
        for (const w of waiters.filter((w) => total >= w.at)) w.resolve();
      }
      return Buffer.concat(parts);
    })();
    return {
      done,
      seen: () => total,
      reached(at: number): Promise<unknown> {
        if (total >= at) return Promise.resolve();
        return Promise.race([new Promise<void>((resolve) => waiters.push({ at, resolve })), done]);
      },
    };
  }

  it("yields bytes as they are written and ends when the writer finished", async () => {
    const path = join(dir, "a");
    await writeFile(path, "");
    const growing = createGrowingFile();
    const reading = reader(readGrowingFile(path, growing.shared, 1000));
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(700 + i, i));
    let written = 0;
    for (const part of parts) {
      await appendFile(path, part);
      growing.advance(part.length);
      written += part.length;
      // Each part reaches the reader before the next is written: it follows the writer, not the finished file.
      await reading.reached(written);
      expect(reading.seen()).toBe(written);
    }
    expect(finalSize(growing.shared)).toBeUndefined();
    growing.finish();
    expect(await reading.done).toEqual(Buffer.concat(parts));
    expect(finalSize(growing.shared)).toBe(Buffer.concat(parts).length);
  });

  it("throws when the writer failed, and never reads past what was recorded", async () => {
    const path = join(dir, "b");
    await writeFile(path, Buffer.alloc(5000, 1));
    const growing = createGrowingFile();
    growing.advance(2000);
    const reading = reader(readGrowingFile(path, growing.shared));
    await reading.reached(2000);
    growing.fail();
    await expect(reading.done).rejects.toThrow(/ended before its body was complete/);
    expect(reading.seen()).toBe(2000);
  });
});
