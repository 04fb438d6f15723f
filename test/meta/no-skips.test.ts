import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/shared.js";

/**
 * A suite that skips itself when a tool (xdelta3, python3, redis-server, radosgw) or a server is missing turns a
 * broken CI machine into a green run. Tests here fail instead, loudly, naming what is missing; this guard keeps it so.
 */
const SKIPS = new RegExp(
  [
    String.raw`\b(?:it|test|describe|suite)\.(?:skip|skipIf|runIf|todo|only)\b`,
    String.raw`\b(?:ctx|context|task)\.skip\(`,
    String.raw`\bx(?:it|describe)\(`,
  ].join("|"),
);

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === "fixtures" || entry.name === "node_modules" ? [] : sourcesUnder(path);
    return /\.[cm]?[jt]s$/.test(entry.name) ? [path] : [];
  });
}

describe("the test tree", () => {
  it("skips nothing: no .skip, .skipIf, .runIf, .todo, .only or ctx.skip() anywhere under test/", () => {
    const self = relative(REPO_ROOT, import.meta.filename);
    const offenders = sourcesUnder(join(REPO_ROOT, "test"))
      .map((path) => relative(REPO_ROOT, path))
      .filter((path) => path !== self)
      .flatMap((path) =>
        readFileSync(join(REPO_ROOT, path), "utf8")
          .split("\n")
          .flatMap((line, i) => (SKIPS.test(line) ? [`${path}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(offenders).toEqual([]);
  });

  it("recognises each form it forbids", () => {
    // Written with "~" for "." so this file does not hold the forms it forbids (every scan of test/ would flag it).
    for (const form of [
      "it~skip('x', () => {})",
      "describe~skipIf(!hasXdelta3)('x', () => {})",
      "it~runIf(process.env.CI)('x', () => {})",
      "test~todo('x')",
      "it~skip.each([1])('x %s', () => {})",
      "describe~only('x', () => {})",
      "if (!tool) ctx~skip()",
      "xit('x', () => {})",
    ]) {
      const line = form.replaceAll("~", ".");
      expect(SKIPS.test(line), line).toBe(true);
    }
    expect(SKIPS.test("const skipped = outcome.skip; expect(hasXdelta3).toBe(true)")).toBe(false);
  });
});
