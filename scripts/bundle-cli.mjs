/**
 * Bundles the `glider` command line (src/cli.ts) with esbuild into dist/cli.js plus a few chunks in dist/cli-chunks/.
 * Why: unbundled, `glider ls` makes Node resolve, read and compile about 110 files (our dist tree, the AWS SDK's
 * packages, zod, pino) before its first request; bundled it reads a handful. Each verb stays a separate chunk loaded
 * by a dynamic import, so `glider --version` still loads only the argument parser. Runs after `tsc` in `npm run build`
 * and overwrites tsc's dist/cli.js (the server keeps tsc's per-file output).
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

/** Where to write (default dist/; another folder to compare builds). */
const outdir = process.argv[2] ?? "dist";
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// Chunk names carry content hashes: the last build's chunks would pile up.
await rm(join(outdir, "cli-chunks"), { recursive: true, force: true });
await build({
  entryPoints: {
    cli: "src/cli.ts",
    // encode-pool.ts starts this file beside its own chunk (new URL("./encode-worker.js", import.meta.url)).
    "cli-chunks/encode-worker": "src/services/deltaglider/encode-worker.ts",
  },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "cli-chunks/[name]-[hash]",
  // ESM builds of the AWS SDK are marked side-effect free, so unused commands and serialisers drop out.
  mainFields: ["module", "main"],
  // piscina starts its own worker file by path, relative to its package: it must stay a real package.
  external: ["piscina"],
  define: { __GLIDER_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies inside an ES module still call require() for Node's built-ins.
  banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
  sourcemap: "linked",
  legalComments: "none",
  // Drops code a define makes dead (the package.json fallback of --version); names and lines stay readable.
  minifySyntax: true,
  logLevel: "warning",
});
