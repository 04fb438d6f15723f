import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { REPO_ROOT } from "../helpers/shared.js";
import { fsEnv, runCli } from "./run.js";

const DIST = join(REPO_ROOT, "dist");

/** Every module specifier a built file imports (static, dynamic, and the require() calls of bundled CommonJS). */
function specifiers(source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    // Not the `[require("…")]` advice inside the AWS SDK's error messages.
    /(?<![[\w.])require\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1]));
}

/** `npm run build` bundles the CLI (scripts/bundle-cli.mjs): dist/cli.js and its chunks in dist/cli-chunks/. */
describe("glider CLI: the bundled build", () => {
  let work: string;

  beforeAll(async () => {
    await ensureCliBuilt();
    work = await mkdtemp(join(tmpdir(), "glider-cli-bundle-"));
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("imports only Node built-ins, piscina (which starts its own worker file) and its own chunks", async () => {
    const chunks = (await readdir(join(DIST, "cli-chunks"))).filter((f) => f.endsWith(".js"));
    expect(chunks).toContain("encode-worker.js");
    const files = [join(DIST, "cli.js"), ...chunks.map((f) => join(DIST, "cli-chunks", f))];
    const outside = new Set<string>();
    let relative = 0;
    for (const file of files) {
      for (const spec of specifiers(await readFile(file, "utf8"))) {
        if (spec.startsWith("./")) relative++;
        else if (spec !== "piscina" && !builtinModules.includes(spec.replace(/^node:/, ""))) outside.add(spec);
      }
    }
    expect([...outside]).toEqual([]);
    // The verbs are chunks of their own, loaded by dynamic imports.
    expect(relative).toBeGreaterThan(10);
    expect(chunks.some((f) => /^ls-[A-Z0-9]+\.js$/.test(f))).toBe(true);
  });

  it("answers --version without reading package.json, and ls lists a bucket", async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    const version = await runCli(["--version"], {}, { cwd: work });
    expect(version.code).toBe(0);
    expect(version.out).toBe(`glider ${pkg.version}\n`);
    expect(await readFile(join(DIST, "cli.js"), "utf8")).not.toContain("package.json");

    const data = join(work, "data");
    // A folder of the fs store's data folder is a bucket.
    await mkdir(join(data, "bucket-a"), { recursive: true });
    const file = join(work, "hello.txt");
    await writeFile(file, "hello\n");
    const env = fsEnv(data);
    await runCli(["cp", file, "s3://bucket-a/x/hello.txt"], env).then((r) => expect(r.errLines).toEqual([]));
    const ls = await runCli(["ls", "-r", "s3://bucket-a/"], env);
    expect(ls.errLines).toEqual([]);
    expect(ls.code).toBe(0);
    expect(ls.out).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {10}6 x\/hello\.txt\n$/);
  });
});
