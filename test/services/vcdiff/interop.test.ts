/**
 * Our encoder's deltas, decoded by the real `xdelta3 -d` (3.0.11): every valid fixture pair, a block moved far
 * through a large source, and the encoder options. Runs when xdelta3 is on PATH (CI installs it).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EncodeOptions, encodeVcdiffBuffer } from "../../../src/services/vcdiff/encoder.js";
import {
  caseFiles,
  hasXdelta3,
  sha256,
  sha256File,
  VCDIFF_CASES,
  type VcdiffCase,
  vcdiffCase,
} from "../../helpers/vcdiff-fixtures.js";

const run = promisify(execFile);
const MIB = 1024 * 1024;

/** Deterministic bytes: xorshift32 words. */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, n);
}

describe("encoder interop: xdelta3 -d decodes our deltas", () => {
  it("needs xdelta3 on PATH (CI installs it; a missing tool fails, never skips)", () => {
    expect(hasXdelta3).toBe(true);
  });
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-vcdiff-interop-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Encodes, writes, decodes with `xdelta3 -d [-s source]`; returns the delta. */
  async function viaXdelta3(
    name: string,
    source: { path: string; bytes: Uint8Array } | null,
    target: Uint8Array,
    options?: EncodeOptions,
  ): Promise<Uint8Array> {
    const delta = encodeVcdiffBuffer(source?.bytes ?? null, target, options);
    const deltaPath = join(dir, `${name}.vcdiff`);
    const out = join(dir, `${name}.out`);
    await writeFile(deltaPath, delta);
    await run("xdelta3", ["-d", "-f", ...(source ? ["-s", source.path] : []), deltaPath, out], {
      maxBuffer: 16 * MIB,
    });
    expect(await sha256File(out)).toBe(sha256(target));
    await rm(out);
    return delta;
  }

  async function inputs(c: VcdiffCase) {
    const files = await caseFiles(c);
    if (!files.target) throw new Error(`${c.name} has no target`);
    const target = await readFile(files.target);
    const source = files.source ? { path: files.source, bytes: await readFile(files.source) } : null;
    return { source, target };
  }

  const valid = VCDIFF_CASES.filter((c) => c.kind === "valid");
  it.each(valid.map((c) => [c.name, c] as const))(
    "%s",
    async (name, c) => {
      const { source, target } = await inputs(c);
      expect(sha256(target)).toBe(c.sha256.target);
      const delta = await viaXdelta3(name, source, target);
      // Our matching (no secondary compression) against xdelta3 -e -9 (with LZMA): deterministic sizes.
      if (["zip-artifact", "multiwindow", "srcwin-move"].includes(name)) {
        expect(delta.length).toBeLessThanOrEqual(1.25 * c.delta_size);
      }
    },
    120_000,
  );

  it("finds a 1 MiB block moved 20 MiB through a 24 MiB source", async () => {
    const source = pseudoRandom(24 * MIB, 7);
    const target = new Uint8Array(source.length);
    // source [0,2) [3,22) [2,3) [22,24) MiB
    target.set(source.subarray(0, 2 * MIB), 0);
    target.set(source.subarray(3 * MIB, 22 * MIB), 2 * MIB);
    target.set(source.subarray(2 * MIB, 3 * MIB), 21 * MIB);
    target.set(source.subarray(22 * MIB), 22 * MIB);
    const path = join(dir, "moved-source.bin");
    await writeFile(path, source);
    const delta = await viaXdelta3("moved", { path, bytes: source }, target);
    expect(delta.length).toBeLessThan(300);
  }, 120_000);

  it("accepts our options: app header, no checksum, 16 KiB windows, windows that use no source", async () => {
    const { source, target } = await inputs(vcdiffCase("multiwindow-small"));
    await viaXdelta3("apphead", source, target, { appHeader: "target.bin//source.bin/" });
    await viaXdelta3("nochecksum", source, target, { checksum: false });
    const delta = await viaXdelta3("small-windows", source, target, { windowSize: 16 * 1024 });
    expect(delta.length).toBeLessThan(1.25 * vcdiffCase("multiwindow-small").delta_size);
    // An unrelated prefix: its windows have no VCD_SOURCE although the source is not empty.
    const unrelated = new Uint8Array(target.length + 40_000);
    unrelated.set(pseudoRandom(40_000, 3));
    unrelated.set(target, 40_000);
    await viaXdelta3("unrelated", source, unrelated, { windowSize: 16 * 1024 });
  }, 120_000);
});
