#!/usr/bin/env node
// The `glider` command: the bundled CLI (dist/bundle/cli.cjs, built by `npm run build`, which `npm ci` runs as
// `prepare`; see scripts/bundle-cli.mjs), compiled with V8's code cache (run-bundle.js).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runBundle } from "./run-bundle.js";

const file = fileURLToPath(new URL("../dist/bundle/cli.cjs", import.meta.url));
if (!existsSync(file)) {
  process.stderr.write("internal: glider is not built: run `npm run build` (npm ci does it) in the Glider folder\n");
  process.exit(1);
}
runBundle(file);
