import { execFile } from "node:child_process";
import { watch } from "node:fs";
import { mkdir, readdir, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./shared.js";

const run = promisify(execFile);
const LOCK = join(REPO_ROOT, ".tmp", "cli-build.lock");
export const CLI_ENTRY = join(REPO_ROOT, "bin", "glider.js");

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

async function stale(): Promise<boolean> {
  try {
    const built = (await stat(join(REPO_ROOT, "dist", "bundle", "cli.cjs"))).mtimeMs;
    return (await newestSource(join(REPO_ROOT, "src"))) > built;
  } catch {
    return true;
  }
}

/** Resolves once the lock folder is gone (another test file's build finished). */
function lockReleased(): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(join(REPO_ROOT, ".tmp"), () => {
      stat(LOCK).catch(() => {
        watcher.close();
        resolve();
      });
    });
    stat(LOCK).catch(() => {
      watcher.close();
      resolve();
    });
  });
}

/**
 * The tests run the compiled CLI (`bin/glider.js` → `dist/bundle/cli.cjs`), as users do. `npm ci` builds it (`prepare`);
 * when a source is newer than the build, the first CLI test file rebuilds it and the others wait for that build.
 */
export async function ensureCliBuilt(): Promise<string> {
  await mkdir(join(REPO_ROOT, ".tmp"), { recursive: true });
  while (await stale()) {
    try {
      await mkdir(LOCK);
    } catch {
      await lockReleased();
      continue;
    }
    try {
      if (await stale()) await run("npm", ["run", "build"], { cwd: REPO_ROOT });
    } finally {
      await rmdir(LOCK);
    }
  }
  return CLI_ENTRY;
}

/** Setup of a CLI test file: a rebuild on a loaded machine can take minutes (the CI builds before the tests). */
export const CLI_SETUP_TIMEOUT_MS = 600_000;
