import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file lives in test/helpers). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The shared/ folder beside the clone (its fixtures may be newer than ours); GLIDER_SHARED_DIR overrides it, and a
 * clone with no shared/ beside it uses the copy of the fixtures in test/fixtures/shared.
 */
export const SHARED_DIR =
  process.env.GLIDER_SHARED_DIR ??
  [resolve(REPO_ROOT, "../shared"), join(REPO_ROOT, "test/fixtures/shared")].find((dir) =>
    existsSync(join(dir, "fixtures")),
  ) ??
  resolve(REPO_ROOT, "../shared");

export const VCDIFF_FIXTURES = join(SHARED_DIR, "fixtures/vcdiff");
export const BUCKET_FIXTURE = join(SHARED_DIR, "fixtures/deltaglider-bucket");

if (!existsSync(SHARED_DIR)) {
  throw new Error(`shared fixtures not found at ${SHARED_DIR}; set GLIDER_SHARED_DIR`);
}
