import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { spec } from "../helpers/openapi.js";
import { REPO_ROOT } from "../helpers/shared.js";

const run = promisify(execFile);

describe("openapi.yaml as a document", () => {
  it("states the package's version", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect((spec as unknown as { info: { version: string } }).info.version).toBe(pkg.version);
  });

  it("passes redocly lint (recommended-strict, redocly.yaml) with no error and no warning", async () => {
    // Exit code alone would hide warnings if redocly.yaml were loosened: read the totals.
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, "node_modules/@redocly/cli/bin/cli.js"), "lint", "--format=json"],
      { cwd: REPO_ROOT, env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" } },
    ).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: unknown[] };
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it("gives every operation an operationId (unique), tags, security and its error responses (4xx but on Health)", () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item) as unknown as [string, Record<string, unknown>][]) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(typeof op.operationId, where).toBe("string");
        expect(ids.has(op.operationId as string), `${where}: duplicate operationId`).toBe(false);
        ids.add(op.operationId as string);
        expect((op.tags as string[]).length, where).toBeGreaterThan(0);
        expect(Array.isArray(op.security), where).toBe(true);
        const responses = op.responses as Record<string, { $ref?: string }>;
        expect(Object.keys(responses), where).toContain("500");
        // The operational routes take no input and need no credentials: they have no 4xx (.redocly.lint-ignore.yaml).
        if ((op.tags as string[]).includes("Health")) continue;
        const clientErrors = Object.keys(responses).filter((s) => s.startsWith("4"));
        expect(clientErrors.length, where).toBeGreaterThan(0);
      }
    }
  });
});
