// Runs a CommonJS bundle with V8's code cache kept beside it (`<bundle>.cache`). Node 20 has no compile cache of
// its own (module.enableCompileCache arrived in 22.1), so this keeps one: the first run writes it, later runs skip
// parsing the bundle. V8 checks that a cache matches this source and this V8, and ignores (then replaces) one that
// does not; a read-only install just runs without it. Used by bin/glider.js, and by bench:cli for its probes, so
// that both load their code the same way.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Script } from "node:vm";

/** Loads and runs `file` (an absolute path to a CommonJS bundle) as Node would require it, with the code cache. */
export function runBundle(file) {
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
}
