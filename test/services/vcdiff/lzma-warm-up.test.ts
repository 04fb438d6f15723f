import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { WARM_UP_LENGTH, WARM_UP_XZ, warmUpContent } from "../../../src/services/vcdiff/lzma-warm-up.js";
import { XzSectionDecoder } from "../../../src/services/vcdiff/lzma2.js";

/**
 * Remakes WARM_UP_XZ from warmUpContent() (print it with `console.log(remake())` after changing the content):
 * liblzma's LZMA2 at preset 9e with a 4 KiB dictionary, cut after the LZMA2 end byte.
 */
const PY_REMAKE = `
import lzma, sys, base64
data = sys.stdin.buffer.read()
filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 4096}]
raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters)
xz = lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE, filters=filters)
assert raw[-1] == 0 and xz[12] == 2 and xz[24:24 + len(raw)] == raw
sys.stdout.write(base64.b64encode(xz[:24] + raw).decode())
`;
const remake = () => execFileSync("python3", ["-c", PY_REMAKE], { input: warmUpContent() }).toString();

describe("LZMA warm-up stream", () => {
  it("decodes to warmUpContent(), whose length is WARM_UP_LENGTH", () => {
    const content = warmUpContent();
    expect(content.length).toBe(WARM_UP_LENGTH);
    const out = new XzSectionDecoder().decodeSection(Buffer.from(WARM_UP_XZ, "base64"), WARM_UP_LENGTH);
    expect(Buffer.from(out).equals(Buffer.from(content))).toBe(true);
  });

  it("has a 4 KiB dictionary that the content wraps twice (both wrap-around paths of decodeChunk run)", () => {
    const stream = Buffer.from(WARM_UP_XZ, "base64");
    // Block header: size byte, flags, filter id 0x21, props size 1, then the dictionary byte (0 = 4 KiB).
    expect([...stream.subarray(13, 17)]).toEqual([0x00, 0x21, 0x01, 0x00]);
    expect(WARM_UP_LENGTH).toBeGreaterThan(2 * 4096);
  });

  it("is what liblzma makes of warmUpContent() today, or at least decodes to the same bytes", () => {
    const fresh = remake();
    if (fresh !== WARM_UP_XZ) {
      // Another liblzma version may choose other matches; the committed stream must still be valid.
      const out = new XzSectionDecoder().decodeSection(Buffer.from(fresh, "base64"), WARM_UP_LENGTH);
      expect(Buffer.from(out).equals(Buffer.from(warmUpContent()))).toBe(true);
    }
    expect(fresh.length).toBeGreaterThan(0);
  });
});
