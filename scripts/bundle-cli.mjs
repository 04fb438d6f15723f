/**
 * Bundles the `glider` command line (src/cli.ts) with esbuild into one CommonJS file, dist/bundle/cli.cjs, which
 * bin/glider.js compiles with V8's code cache (dist/bundle/cli.cjs.cache, written by the first run). Why:
 * - unbundled, `glider ls` makes Node resolve, read and compile about 110 files (our dist tree, the AWS SDK's
 *   packages, zod, pino) before its first request; bundled it reads one;
 * - Node 20 has no compile cache for modules (module.enableCompileCache arrived in 22.1), but a vm.Script takes
 *   V8's cached data: with it, a run skips parsing ~2 MB of JavaScript (measured: a third of `glider ls`'s CPU).
 *   That needs a script, not an ES module, hence CommonJS and one file (esbuild splits ES modules only);
 * - verbs stay lazy: esbuild wraps each lazily imported module in an init function that runs on its first
 *   import(), so `glider --version` evaluates the argument parser only.
 * Runs after `tsc` in `npm run build`; the server and `node dist/cli.js` keep tsc's per-file output.
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import { builtinsByRequire, commonOptions as common } from "./cli-bundle-options.mjs";

/** Where to write (default dist/bundle; another folder to compare builds). */
const outdir = process.argv[2] ?? join("dist", "bundle");
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
await rm(outdir, { recursive: true, force: true });

await build({
  ...common,
  entryPoints: { cli: "src/cli.ts" },
  outdir,
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  define: { __GLIDER_VERSION__: JSON.stringify(pkg.version), "import.meta": "__import_meta" },
  // encode-pool.ts finds its worker file beside itself: `new URL("./encode-worker.js", import.meta.url)`.
  banner: { js: 'const __import_meta = { url: require("node:url").pathToFileURL(__filename).href };' },
  plugins: [builtinsByRequire],
});

// The encode worker, beside cli.cjs; an ES module (piscina imports it), as dist/ is "type": "module".
await build({
  ...common,
  entryPoints: { "encode-worker": "src/services/deltaglider/encode-worker.ts" },
  outdir,
  format: "esm",
  // CommonJS dependencies inside an ES module still call require() for Node's built-ins.
  banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
});
