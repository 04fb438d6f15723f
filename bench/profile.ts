/**
 * Summarises a V8 .cpuprofile (from `BENCH_CPU_PROF=<dir> npm run bench:<part>`): self time by function and by
 * package/file, and inclusive time of the heaviest frames under a filter.
 *
 *   npx tsx bench/profile.ts .tmp/prof/graphql-*.cpuprofile [--top 30] [--match <substring of url or name>]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = path.slice(nm + "node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const src = path.indexOf("/src/");
  if (src >= 0) return path.slice(src + 1);
  return path || "(native)";
}

function main() {
  const args = process.argv.slice(2);
  const top = Number(args[args.indexOf("--top") + 1]) || 25;
  const match = args.includes("--match") ? args[args.indexOf("--match") + 1] : undefined;
  const files = args.filter((a, i) => !a.startsWith("--") && !["--top", "--match"].includes(args[i - 1]));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    // Sample time per node (µs).
    const self = new Map<number, number>();
    for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const idle = [...self.entries()]
      .filter(([id]) => ["(idle)", "(program)"].includes(byId.get(id)?.callFrame.functionName ?? ""))
      .reduce((a, [, v]) => a + v, 0);

    const fnSelf = new Map<string, number>();
    const pkgSelf = new Map<string, number>();
    const inclusive = new Map<string, number>();
    for (const [id, us] of self) {
      const n = byId.get(id) as Node;
      const label = `${n.callFrame.functionName || "(anonymous)"} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
      fnSelf.set(label, (fnSelf.get(label) ?? 0) + us);
      const pkg = where(n.callFrame.url);
      pkgSelf.set(pkg, (pkgSelf.get(pkg) ?? 0) + us);
      // Inclusive: each distinct frame on the stack once.
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const f = byId.get(cur)?.callFrame;
        if (!f) break;
        const l = `${f.functionName || "(anonymous)"} ${where(f.url)}:${f.lineNumber + 1}`;
        if (seen.has(l)) continue;
        seen.add(l);
        inclusive.set(l, (inclusive.get(l) ?? 0) + us);
      }
    }
    const ms = (us: number) =>
      `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%`;
    const list = (m: Map<string, number>, filter?: string) =>
      [...m.entries()]
        .filter(([k]) => !filter || k.includes(filter))
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => `  ${ms(v)}  ${k}`)
        .join("\n");
    process.stdout.write(
      `${file}\n  ${(total / 1000).toFixed(0)} ms sampled, ${((100 * idle) / total).toFixed(1)}% idle/program\n` +
        `self time by package/file:\n${list(pkgSelf)}\nself time by function:\n${list(fnSelf)}\n` +
        `inclusive time${match ? ` (matching "${match}")` : ""}:\n${list(inclusive, match)}\n`,
    );
  }
}

main();
