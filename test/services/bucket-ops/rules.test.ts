import { describe, expect, it } from "vitest";
import { createProgress, renderProgress } from "../../../src/cli/progress.js";
import { fnmatch, selects } from "../../../src/services/bucket-ops/filters.js";
import { planSync } from "../../../src/services/bucket-ops/sync-plan.js";

describe("--include / --exclude (Python fnmatch, as the DeltaGlider CLI)", () => {
  it.each([
    ["a.zip", "*.zip", true],
    ["dir/a.zip", "*.zip", true],
    ["dir/a.zip", "dir/*", true],
    ["a.zip", "a.?ip", true],
    ["b.zip", "[ab].zip", true],
    ["c.zip", "[!ab].zip", true],
    ["a.zip", "[!ab].zip", false],
    ["a.zip.sha256", "*.zip", false],
    ["a+b (1).zip", "a+b (1).zip", true],
    ["x[y", "x[y", true],
  ])("%s against %s → %s", (path, pattern, want) => {
    expect(fnmatch(path, pattern)).toBe(want);
  });

  it("excludes win, includes narrow", () => {
    const filter = { include: ["*.zip"], exclude: ["old/*"] };
    expect(selects(filter, "new/a.zip")).toBe(true);
    expect(selects(filter, "old/a.zip")).toBe(false);
    expect(selects(filter, "new/a.txt")).toBe(false);
    expect(selects({ include: [], exclude: [] }, "anything")).toBe(true);
  });
});

describe("sync decisions (aws s3 sync rules)", () => {
  const e = (path: string, size: number, mtimeMs: number) => ({ path, size, mtimeMs });
  it("transfers missing, resized and newer-by-whole-seconds files; deletes extras only when asked", () => {
    const source = [
      e("same", 1, 5_000),
      e("new", 1, 5_000),
      e("size", 2, 5_000),
      e("newer", 1, 9_000),
      e("ms", 1, 5_900),
    ];
    const dest = [e("same", 1, 5_000), e("size", 1, 9_000), e("newer", 1, 5_000), e("ms", 1, 5_100), e("extra", 1, 0)];
    const plan = planSync(source, dest, { sizeOnly: false, delete: true });
    expect(plan.transfer.map((t) => [t.source.path, t.reason])).toEqual([
      ["new", "missing"],
      ["size", "size"],
      ["newer", "newer"],
    ]);
    expect(plan.remove.map((d) => d.path)).toEqual(["extra"]);
    expect(plan.unchanged).toBe(2);
    const sizeOnly = planSync(source, dest, { sizeOnly: true, delete: false });
    expect(sizeOnly.transfer.map((t) => t.source.path)).toEqual(["new", "size"]);
    expect(sizeOnly.remove).toEqual([]);
  });
});

describe("progress line", () => {
  it("shows bar, bytes, percent, rate, ETA and objects", () => {
    const line = renderProgress({
      label: "upload x",
      bytes: 50 * 1024 * 1024,
      totalBytes: 100 * 1024 * 1024,
      items: 3,
      totalItems: 10,
      elapsedMs: 5000,
      columns: 200,
    });
    expect(line).toBe(
      "upload x  [##########----------]  50.0 MiB / 100.0 MiB 50%  10.0 MiB/s  ETA 00:05  3/10 objects",
    );
  });

  it("waits a moment before drawing, redraws at most every 100 ms, and clears its line at the end", () => {
    let now = 0;
    const out: string[] = [];
    const p = createProgress({
      label: "t",
      totalBytes: 100,
      enabled: true,
      now: () => now,
      write: (s) => out.push(s),
      columns: () => 80,
    });
    p.bytes(10);
    expect(out).toEqual([]);
    now = 400;
    p.bytes(10);
    now = 450;
    p.bytes(10);
    expect(out).toHaveLength(1);
    expect(out[0].replace("\x1b[K", "<EL>")).toMatch(/^\r<EL>t {2}\[#{4}-{16}\] {2}20 B \/ 100 B 20%/);
    const off = createProgress({ label: "t", enabled: false, now: () => 1000, write: (s) => out.push(s) });
    off.bytes(5);
    expect(out).toHaveLength(1);
  });
});
