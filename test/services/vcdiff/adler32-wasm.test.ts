import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import wabtInit from "wabt";
import { adler32 } from "../../../src/services/vcdiff/adler32.js";
import { adler32Simd, hasAdler32Simd } from "../../../src/services/vcdiff/adler32-wasm.js";

const SRC = join(import.meta.dirname, "../../../src/services/vcdiff");

function seeded(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe("adler32Simd", () => {
  it("embeds exactly what wabt makes of adler32-simd.wat", async () => {
    const wabt = await wabtInit();
    const wat = readFileSync(join(SRC, "adler32-simd.wat"), "utf8");
    const { buffer } = wabt.parseWat("adler32-simd.wat", wat, { simd: true }).toBinary({});
    const embedded = readFileSync(join(SRC, "adler32-wasm.ts"), "utf8").match(/"([A-Za-z0-9+/=]{100,})"/)?.[1];
    expect(embedded).toBe(Buffer.from(buffer).toString("base64"));
    // Node >= 16.4 has WebAssembly SIMD: the tests below exercise the module, not the fallback.
    expect(hasAdler32Simd()).toBe(true);
  });

  it("agrees with the JavaScript Adler-32 across lengths, offsets, initial values and the 64 KiB steps", () => {
    const sizes = [0, 1, 15, 16, 17, 255, 256, 257, 4095, 4096, 4097, 4111, 65535, 65536, 65537, 200_003];
    for (const size of sizes) {
      for (const bytes of [seeded(size, size), new Uint8Array(size).fill(0xff)]) {
        for (const start of [0, 1, 7]) {
          if (start > size) continue;
          for (const initial of [1, 0xfff0fff0 % 65521, (65520 << 16) | 65520]) {
            expect(adler32Simd(bytes, start, size, initial)).toBe(adler32(bytes, start, size, initial));
          }
        }
      }
    }
  });

  it("handles a whole window of 0xff bytes, the worst case for lane overflow", () => {
    const bytes = new Uint8Array(8 * 1024 * 1024 + 13).fill(0xff);
    expect(adler32Simd(bytes)).toBe(adler32(bytes));
  });
});
