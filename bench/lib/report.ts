import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, SCALE } from "./env.js";

/**
 * One figure of a part. `ratio` is value / baseline (for throughputs the goal reads "≥", for latencies "≤");
 * `met` is undefined when the figure has no goal or could not be judged (a missing baseline).
 */
export interface Row {
  part: string;
  figure: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  ratio?: number;
  goal?: string;
  met?: boolean;
  /** Context: sample counts, sizes, what bounds it. */
  note?: string;
}

export interface Goal {
  /** "ratio" compares value / baseline, "value" compares the figure itself. */
  on: "ratio" | "value";
  op: ">=" | "<=";
  limit: number;
}

/** Builds a row, computing the ratio and whether the goal is met. */
export function row(
  part: string,
  figure: string,
  value: number,
  unit: string,
  options: { baseline?: { name: string; value: number }; goal?: Goal; note?: string } = {},
): Row {
  const { baseline, goal } = options;
  const ratio = baseline && baseline.value > 0 && Number.isFinite(value) ? value / baseline.value : undefined;
  let met: boolean | undefined;
  let goalText: string | undefined;
  if (goal) {
    const subject = goal.on === "ratio" ? ratio : value;
    goalText = goal.on === "ratio" ? `${goal.op} ${goal.limit}×` : `${goal.op} ${goal.limit} ${unit}`;
    if (subject !== undefined && Number.isFinite(subject)) {
      met = goal.op === ">=" ? subject >= goal.limit : subject <= goal.limit;
    }
  }
  return { part, figure, value, unit, baseline, ratio, goal: goalText, met, note: options.note };
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function cells(r: Row): string[] {
  return [
    r.part,
    r.figure,
    `${formatNumber(r.value)} ${r.unit}`,
    r.baseline ? `${formatNumber(r.baseline.value)} ${r.unit} (${r.baseline.name})` : "—",
    r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : "—",
    r.goal ?? "—",
    r.met === undefined ? (r.goal ? "?" : "") : r.met ? "met" : "MISSED",
  ];
}

const HEADER = ["part", "figure", "value", "baseline (same run)", "ratio", "goal", "verdict"];

/** A plain-text table for the terminal. */
export function textTable(rows: readonly Row[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.part} / ${r.figure}: ${r.note}`);
  return [line(table[0]), line(widths.map((w) => "-".repeat(w))), ...table.slice(1).map(line), "", ...notes].join("\n");
}

/** The same table in Markdown (for bench/RESULTS.md). */
export function markdownTable(rows: readonly Row[]): string {
  const cell = (s: string) => s.replaceAll("|", "\\|");
  const out = [`| ${HEADER.map(cell).join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`];
  for (const r of rows) out.push(`| ${cells(r).map(cell).join(" | ")} |`);
  return out.join("\n");
}

export interface PartResult {
  part: string;
  ok: boolean;
  seconds: number;
  rows: Row[];
  error?: string;
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/:/g, "-")
    .replace(/\.\d+Z$/, "Z");
}

/** Writes bench/results/<date>.json (git-ignored) and returns its path. */
export async function writeResults(started: Date, parts: readonly PartResult[]): Promise<string> {
  const dir = join(REPO_ROOT, "bench/results");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${stamp(started)}.json`);
  const body = {
    date: started.toISOString(),
    scale: SCALE,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryBytes: totalmem(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    parts,
  };
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}
