import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { bufferSource, openVcdiff } from "../../../src/services/vcdiff/index.js";
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
});
