/**
 * Decode-only benchmark: Glider's streaming decoder vs `xdelta3 -d` on one existing (source, delta) pair, file → file,
 * in interleaved rounds (the VM is shared: best and median of each contender over the same rounds).
 *
 *   npm run bench:vcdiff-decode -- SOURCE DELTA [ROUNDS=5]
 *
 * Make a pair with `tsx bench/vcdiff.ts generate DIR 256` and `xdelta3 -e -9 -s DIR/source.bin DIR/target.bin DELTA`
 * (at 256 MiB, xdelta3 stores the far-moved blocks as LZMA-compressed literals). For a CPU profile of one decode:
 * `node --cpu-prof --import tsx bench/vcdiff-decode.ts SOURCE DELTA 1 glider`.
 */
import { spawnSync } from "node:child_process";
import { createReadStream, statSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSource, openVcdiff } from "../src/services/vcdiff/index.js";

const [source, delta, roundsArg, only] = process.argv.slice(2);
if (!source || !delta) throw new Error("usage: vcdiff-decode.ts SOURCE DELTA [ROUNDS] [glider|xdelta3]");
const rounds = Number(roundsArg ?? "5");
const out = join(tmpdir(), `glider-vcdiff-decode-${process.pid}.bin`);
const cpu: Record<string, number[]> = { glider: [], xdelta3: [] };

/** Wall seconds; CPU seconds (user + system, all threads) go to `cpu`. */
async function glider(): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const src = await fileSource(source);
  const file = await open(out, "w");
  try {
    const reader = await openVcdiff(createReadStream(delta, { highWaterMark: 1 << 20 }));
    for await (const chunk of reader.decode(src)) await file.write(chunk);
  } finally {
    await file.close();
    await src.close();
  }
  const c = process.cpuUsage(c0);
  cpu.glider.push((c.user + c.system) / 1e6);
  return (performance.now() - t0) / 1000;
}

/** Run under /usr/bin/time for the child's CPU seconds. */
function xdelta3(): number {
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%U %S", "xdelta3", "-d", "-f", "-s", source, delta, out], {
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`xdelta3 -d failed: ${r.stderr}`);
  const [user, system] = r.stderr.trim().split("\n").at(-1)?.split(" ").map(Number) ?? [Number.NaN, Number.NaN];
  cpu.xdelta3.push(user + system);
  return (performance.now() - t0) / 1000;
}

const times: Record<string, number[]> = { glider: [], xdelta3: [] };
for (let i = 0; i < rounds; i++) {
  if (only !== "xdelta3") times.glider.push(await glider());
  if (only !== "glider") times.xdelta3.push(xdelta3());
}
const size = statSync(out).size / (1 << 20);
await rm(out, { force: true });
const stats = (t: number[]) => {
  const s = [...t].sort((a, b) => a - b);
  return { best: s[0], median: s[Math.floor(s.length / 2)] };
};
for (const [name, t] of Object.entries(times)) {
  if (t.length === 0) continue;
  const { best, median } = stats(t);
  console.log(
    `${name.padEnd(8)} wall best ${best.toFixed(3)} s (${(size / best).toFixed(1)} MB/s) · median ${median.toFixed(3)} s (${(size / median).toFixed(1)} MB/s) · ${t.map((x) => x.toFixed(2)).join(" ")}`,
  );
  const c = stats(cpu[name]);
  console.log(
    `${" ".repeat(8)} CPU best ${c.best.toFixed(3)} s · median ${c.median.toFixed(3)} s · ${cpu[name].map((x) => x.toFixed(2)).join(" ")}`,
  );
}
if (times.glider.length && times.xdelta3.length) {
  const g = stats(times.glider);
  const x = stats(times.xdelta3);
  const gc = stats(cpu.glider);
  const xc = stats(cpu.xdelta3);
  console.log(
    `ratio Glider / xdelta3 throughput: wall best ${(x.best / g.best).toFixed(2)}× · median ${(x.median / g.median).toFixed(2)}× · CPU best ${(xc.best / gc.best).toFixed(2)}× · median ${(xc.median / gc.median).toFixed(2)}×`,
  );
}
