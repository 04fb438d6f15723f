import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../helpers/shared.js";
import { fixturePath, sha256, sha256File, vcdiffCase } from "../../helpers/vcdiff-fixtures.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/tools/vcdiff-cli.ts", ...args],
      { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("vcdiff CLI", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-vcdiff-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("decodes a fixture to a file", async () => {
    const c = vcdiffCase("multiwindow-small");
    const out = join(dir, "decoded.bin");
    const run = await cli(["decode", "-s", fixturePath(c.files.source as string), fixturePath(c.files.delta), out]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(await sha256File(out)).toBe(c.sha256.target);
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("prints the header and every window", async () => {
    const c = vcdiffCase("multiwindow-small");
    const run = await cli(["printhdr", fixturePath(c.files.delta)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("VCDIFF secondary compressor:   lzma");
    expect(run.stdout).toContain("target.bin//source.bin/");
    expect(run.stdout).toContain(`window ${(c.headers?.windows ?? 0) - 1} `);
    expect(run.stdout).toContain(`adler32:                     ${c.headers?.window_list[0].adler32}`);
    expect(run.stdout).toContain(`windows: ${c.headers?.windows}`);
  });

  it("exits 1 with the error class on stderr and leaves no output file", async () => {
    const c = vcdiffCase("corrupt-adler32-flip");
    const out = join(dir, "corrupt.bin");
    const run = await cli(["decode", "-s", fixturePath(c.files.source as string), fixturePath(c.files.delta), out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^checksum_mismatch: /);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("reports usage and I/O errors the same way", async () => {
    expect((await cli(["frobnicate"])).stderr).toMatch(/^usage_error: /);
    const missing = await cli(["decode", join(dir, "missing.vcdiff"), join(dir, "x")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^io_error: .*ENOENT/);
  });

  it("round-trips encode then decode", async () => {
    const c = vcdiffCase("text-edit");
    const source = fixturePath(c.files.source as string);
    const delta = join(dir, "rt.vcdiff");
    const out = join(dir, "rt.bin");
    const encoded = await cli(["encode", "-s", source, fixturePath(c.files.target as string), delta]);
    expect(encoded.stderr).toBe("");
    expect(encoded.code).toBe(0);
    const decoded = await cli(["decode", "-s", source, delta, out]);
    expect(decoded.code).toBe(0);
    expect(sha256(await readFile(out))).toBe(c.sha256.target);
  });

  it("writes deltas that xdelta3 -d accepts, and decodes to stdout", async () => {
    const c = vcdiffCase("binary-reorder");
    const source = fixturePath(c.files.source as string);
    const delta = join(dir, "x.vcdiff");
    expect((await cli(["encode", "-s", source, fixturePath(c.files.target as string), delta])).code).toBe(0);
    const viaXdelta = join(dir, "x.out");
    await new Promise<void>((resolve, reject) =>
      execFile("xdelta3", ["-d", "-f", "-s", source, delta, viaXdelta], (error) => (error ? reject(error) : resolve())),
    );
    expect(await sha256File(viaXdelta)).toBe(c.sha256.target);
    const toStdout = await new Promise<Buffer>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--import", "tsx", "src/tools/vcdiff-cli.ts", "decode", "-s", source, delta, "-"],
        { cwd: REPO_ROOT, encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
    expect(sha256(toStdout)).toBe(c.sha256.target);
  });
});
