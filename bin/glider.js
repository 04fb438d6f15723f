#!/usr/bin/env node
// The `glider` command: the bundled CLI (dist/bundle/cli.cjs, built by `npm run build`, which `npm ci` runs as
// `prepare`; see scripts/bundle-cli.mjs), compiled with V8's code cache. Node 20 has no compile cache of its own, so
// this file keeps one beside the bundle: the first run writes it, later runs skip parsing the bundle. V8 checks
// that a cache matches this source and this V8, and ignores (then replaces) one that does not; a read-only install
// just runs without it.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

const file = fileURLToPath(new URL("../dist/bundle/cli.cjs", import.meta.url));
if (!existsSync(file)) {
  process.stderr.write("internal: glider is not built: run `npm run build` (npm ci does it) in the Glider folder\n");
  process.exit(1);
}
const cacheFile = `${file}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// CommonJS's own wrapper, on the source's first line so that stack traces keep their line numbers.
const wrapped = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`;
const script = new Script(wrapped, { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected) {
  // At exit the cache holds every function this run compiled, not only the top level.
  process.once("exit", () => {
    const temp = `${cacheFile}.${process.pid}`;
    try {
      writeFileSync(temp, script.createCachedData());
      renameSync(temp, cacheFile);
    } catch {
      rmSync(temp, { force: true });
    }
  });
}
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
