import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    // One Ceph RGW (a real S3 server) for the run; tests reach it through GLIDER_TEST_RGW_* (test/helpers/rgw.ts).
    globalSetup: ["test/helpers/rgw-global-setup.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
