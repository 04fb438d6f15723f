/**
 * Time from openVcdiff to the first target byte, whole windows (`decode`) against 1 MiB slices (`decodeSlices`), with
 * the server's options (no lookahead, no Adler-32), from a source in memory and from a file. Interleaved, medians of 7:
 *   npx tsx bench/vcdiff-first-byte.ts SOURCE DELTA
 * (e.g. a pair from `tsx bench/vcdiff.ts generate DIR 64` and its `xdelta3 -e -9 -s` delta).
 */
import { readFile } from "node:fs/promises";
import { bufferSource, fileSource, openVcdiff, type SourceReader } from "../src/services/vcdiff/index.js";

const [sourcePath, deltaPath] = process.argv.slice(2);
if (!sourcePath || !deltaPath) throw new Error("usage: tsx bench/vcdiff-first-byte.ts SOURCE DELTA");
const delta = await readFile(deltaPath);
const file = await fileSource(sourcePath);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function once(sliced: boolean, source: SourceReader) {
  const t0 = performance.now();
  const reader = await openVcdiff([delta], { verifyChecksum: false, lookahead: false, maxTargetHistory: 0 });
  let first = 0;
  let bytes = 0;
  const chunks = sliced
    ? (async function* () {
        for await (const slice of reader.decodeSlices(source, 1024 * 1024)) yield slice.bytes;
      })()
    : reader.decode(source);
  for await (const chunk of chunks) {
    if (!first) first = performance.now() - t0;
    bytes += chunk.length;
  }
  return { first, total: performance.now() - t0, bytes };
}

const sources = [
  ["memory", bufferSource(await readFile(sourcePath))],
  ["file", file],
] as const;
for (const [name, source] of sources) {
  const runs = {
    whole: { first: [] as number[], total: [] as number[] },
    sliced: { first: [] as number[], total: [] as number[] },
  };
  let size = -1;
  for (let i = 0; i < 7; i++) {
    for (const mode of ["whole", "sliced"] as const) {
      const got = await once(mode === "sliced", source);
      if (size >= 0 && got.bytes !== size) throw new Error(`${mode}: ${got.bytes} bytes, not ${size}`);
      size = got.bytes;
      runs[mode].first.push(got.first);
      runs[mode].total.push(got.total);
    }
  }
  for (const mode of ["whole", "sliced"] as const) {
    const r = runs[mode];
    console.log(
      `${name} ${mode}: first byte ${median(r.first).toFixed(1)} ms, all ${size.toLocaleString("en-US")} bytes ${median(r.total).toFixed(0)} ms`,
    );
  }
}
await file.close();
