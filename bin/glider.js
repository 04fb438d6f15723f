#!/usr/bin/env node
// The `glider` command: the compiled CLI (dist/cli.js, built by `npm run build`, which `npm ci` runs as `prepare`).
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write("internal: glider is not built: run `npm run build` (npm ci does it) in the Glider folder\n");
  process.exit(1);
}
await import(compiled.href);
