import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "acorn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { REPO_ROOT } from "../helpers/shared.js";
import { fsEnv, runCli } from "./run.js";

const BUNDLE = join(REPO_ROOT, "dist", "bundle");

/** Where the comments of a built file are (bundled packages keep their doc comments, code examples included). */
function commentSpans(source: string, sourceType: "script" | "module"): [number, number][] {
  const spans: [number, number][] = [];
  parse(source, {
    ecmaVersion: "latest",
    sourceType,
    allowHashBang: true,
    onComment: (_block, _text, start, end) => spans.push([start, end]),
  });
  return spans;
}

/**
 * Every module specifier a built file imports (static, dynamic, and the require() calls of bundled CommonJS), outside
 * comments: p-queue's doc comments hold `import PQueue from 'p-queue';` examples.
 */
function specifiers(source: string, sourceType: "script" | "module"): string[] {
  const comments = commentSpans(source, sourceType);
  const inComment = (index: number) => comments.some(([start, end]) => index >= start && index < end);
  const patterns = [
    /^\s*(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    // Not the `[require("…")]` advice inside the AWS SDK's error messages.
    /(?<![[\w.])require\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((re) => [...source.matchAll(re)].filter((m) => !inComment(m.index)).map((m) => m[1]));
}

/** `npm run build` bundles the CLI (scripts/bundle-cli.mjs) into dist/bundle/cli.cjs, run by bin/glider.js. */
describe("glider CLI: the bundled build", () => {
  let work: string;

  beforeAll(async () => {
    await ensureCliBuilt();
    work = await mkdtemp(join(tmpdir(), "glider-cli-bundle-"));
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("is one file needing only Node built-ins and piscina (which starts the encode worker beside it)", async () => {
    const cli = await readFile(join(BUNDLE, "cli.cjs"), "utf8");
    const worker = await readFile(join(BUNDLE, "encode-worker.js"), "utf8");
    const outside = new Set<string>();
    for (const spec of [...specifiers(cli, "script"), ...specifiers(worker, "module")]) {
      if (spec !== "piscina" && !builtinModules.includes(spec.replace(/^node:/, ""))) outside.add(spec);
    }
    expect([...outside]).toEqual([]);
    // No real import() is left: a vm.Script (bin/glider.js) has no module loader for it on Node 20.
    expect(cli).not.toMatch(/(?<![\w.$])import\(/);
    expect(cli).toContain("encode-worker.js");
  });

  it("keeps a V8 code cache beside the bundle, and runs correctly with a damaged one (then replaces it)", async () => {
    // A copy of the install, so that CLI runs of other test files do not rewrite this cache meanwhile.
    const install = join(work, "install");
    await mkdir(join(install, "bin"), { recursive: true });
    await mkdir(join(install, "dist", "bundle"), { recursive: true });
    for (const f of ["glider.js", "run-bundle.js"]) await copyFile(join(REPO_ROOT, "bin", f), join(install, "bin", f));
    await copyFile(join(BUNDLE, "cli.cjs"), join(install, "dist", "bundle", "cli.cjs"));
    const entry = [join(install, "bin", "glider.js")];
    const cache = join(install, "dist", "bundle", "cli.cjs.cache");

    expect((await runCli(["--version"], {}, { entry })).out).toMatch(/^glider /);
    const first = await readFile(cache);
    expect(first.length).toBeGreaterThan(10_000);
    await writeFile(cache, randomBytes(4096));
    const r = await runCli(["--version"], {}, { entry });
    expect(r.errLines).toEqual([]);
    expect(r.code).toBe(0);
    const replaced = await readFile(cache);
    expect(replaced.length).toBeGreaterThan(10_000);
    // The rebuilt cache is accepted: the next run leaves it as it is.
    expect((await runCli(["--version"], {}, { entry })).code).toBe(0);
    expect((await readFile(cache)).equals(replaced)).toBe(true);
    expect((await readdir(join(install, "dist", "bundle"))).sort()).toEqual(["cli.cjs", "cli.cjs.cache"]);
  });

  it("answers --version without reading package.json, and ls lists a bucket", async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    const version = await runCli(["--version"], {}, { cwd: work });
    expect(version.code).toBe(0);
    expect(version.out).toBe(`glider ${pkg.version}\n`);
    expect(await readFile(join(BUNDLE, "cli.cjs"), "utf8")).not.toContain('"../package.json"');

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
