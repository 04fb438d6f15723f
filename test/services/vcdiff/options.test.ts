import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { bufferSource, openVcdiff } from "../../../src/services/vcdiff/index.js";
import { settled } from "../../helpers/settle.js";
import { fixturePath, sha256, vcdiffCase } from "../../helpers/vcdiff-fixtures.js";

describe("decoder options used by servers", () => {
  it.each(["multiwindow-small", "multiwindow-small-nosource", "text-edit"])(
    "%s decodes the same without lookahead and without Adler-32 checks",
    async (name) => {
      const c = vcdiffCase(name);
      const delta = await readFile(fixturePath(c.files.delta));
      const source = c.files.source ? bufferSource(await readFile(fixturePath(c.files.source))) : null;
      for (const options of [{}, { lookahead: false }, { lookahead: false, verifyChecksum: false }]) {
        const reader = await openVcdiff([delta], options);
        const parts: Uint8Array[] = [];
        for await (const chunk of reader.decode(source)) parts.push(chunk);
        expect(sha256(Buffer.concat(parts))).toBe(c.sha256.target);
        expect(reader.windowsDecoded).toBe(c.headers?.windows);
      }
    },
  );

  it("decodes each window into the buffer the caller supplies, synchronously or after waiting", async () => {
    const c = vcdiffCase("multiwindow-small");
    const delta = await readFile(fixturePath(c.files.delta));
    const source = c.files.source ? bufferSource(await readFile(fixturePath(c.files.source))) : null;
    for (const wait of [false, true]) {
      // One buffer for every window, larger than any: the caller copies each window out before asking for the next.
      const shared = Buffer.alloc(1024 * 1024);
      const lengths: number[] = [];
      const reader = await openVcdiff([delta], {
        lookahead: false,
        maxTargetHistory: 0,
        allocateWindow: (length) => {
          lengths.push(length);
          return wait ? settled().then(() => shared) : shared;
        },
      });
      const parts: Buffer[] = [];
      for await (const chunk of reader.decode(source)) {
        expect(chunk.buffer).toBe(shared.buffer);
        parts.push(Buffer.from(chunk));
      }
      expect(sha256(Buffer.concat(parts))).toBe(c.sha256.target);
      expect(lengths.length).toBe(c.headers?.windows);
      expect(lengths.reduce((a, b) => a + b, 0)).toBe(Buffer.concat(parts).length);
    }
  });

  it("rejects a supplied window buffer that is too small", async () => {
    const c = vcdiffCase("multiwindow-small");
    const delta = await readFile(fixturePath(c.files.delta));
    const source = c.files.source ? bufferSource(await readFile(fixturePath(c.files.source))) : null;
    const reader = await openVcdiff([delta], { allocateWindow: () => new Uint8Array(1) });
    await expect(async () => {
      for await (const _ of reader.decode(source)) {
        // drain
      }
    }).rejects.toThrow(/allocateWindow returned 1 bytes/);
  });
});
