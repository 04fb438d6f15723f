import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Two projects (`npx vitest run --project unit|integration`; `npm test` runs both):
 * - unit: in-process code only (codec, services over the memory store, config): no servers, no child processes.
 * - integration: everything else — tests that listen, start s3rver or another process, or drive the browser.
 * A new file under test/services/ is unit unless listed in NEEDS_SERVERS; anywhere else it is integration. A
 * global setup for integration (an S3 server, …) goes into that project's `globalSetup`.
 */
const UNIT_ELSEWHERE = [
  "test/server/config.test.ts",
  "test/cli/local-files.test.ts",
  "test/rest/send/openapi.test.ts",
  "test/meta/no-skips.test.ts",
];
/** Service tests that need a server, a process (the xdelta3 binary, the CLI) or minutes (fuzzing). */
const NEEDS_SERVERS = [
  "test/services/storage/contract.test.ts",
  "test/services/storage/conditional-writes.test.ts",
  "test/services/vcdiff/lzma2.test.ts",
  "test/services/vcdiff/decoder.test.ts",
  "test/services/vcdiff/interop.test.ts",
  "test/services/vcdiff/cli.test.ts",
  "test/services/vcdiff/fuzz.test.ts",
  "test/services/savings/jobs.test.ts",
  "test/services/deltaglider/reconstruct.test.ts",
  "test/services/deltaglider/catalogue.test.ts",
  "test/services/deltaglider/upload.test.ts",
  "test/services/deltaglider/crash.test.ts",
  "test/services/storage/faults.test.ts",
  "test/services/sessions/redis-store.test.ts",
  "test/services/vcdiff/archive-pairs.test.ts",
  "test/services/storage/fs-shared-dir.test.ts",
];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "fixtures" ? [] : testFiles(path);
    return entry.name.endsWith(".test.ts") ? [relative(import.meta.dirname, path)] : [];
  });
}

const all = testFiles(join(import.meta.dirname, "test"));
const isUnit = (file: string) =>
  UNIT_ELSEWHERE.includes(file) || (file.startsWith("test/services/") && !NEEDS_SERVERS.includes(file));

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    projects: [
      { extends: true, test: { name: "unit", include: all.filter(isUnit) } },
      {
        extends: true,
        test: {
          name: "integration",
          include: all.filter((file) => !isUnit(file)),
          // One Ceph RGW (a real S3 server) for the run; tests reach it through GLIDER_TEST_RGW_* (test/helpers/rgw.ts).
          globalSetup: ["test/helpers/rgw-global-setup.ts"],
        },
      },
    ],
  },
});
