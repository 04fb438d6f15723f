import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file lives in test/helpers). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The steering repo's shared/ folder, beside the clone; GLIDER_SHARED_DIR overrides it. */
export const SHARED_DIR = process.env.GLIDER_SHARED_DIR ?? resolve(REPO_ROOT, "../shared");

export const VCDIFF_FIXTURES = join(SHARED_DIR, "fixtures/vcdiff");
export const BUCKET_FIXTURE = join(SHARED_DIR, "fixtures/deltaglider-bucket");

if (!existsSync(SHARED_DIR)) {
  throw new Error(`shared fixtures not found at ${SHARED_DIR}; set GLIDER_SHARED_DIR`);
}
