import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { releaseVersions } from "../helpers/releases.js";
import { createRgwTenant, createS3StoreForRgw } from "../helpers/rgw.js";
import { runCli, sha256 } from "./run.js";

/**
 * The compiled `glider` against Ceph RGW (the run's gateway, a tenant of its own): a real S3 implementation with its
 * own spelling of metadata names (`_` as `-`) and listing quirks, which s3rver does not have.
 */
describe("glider on Ceph RGW: cp up, ls, cp down, verify", { timeout: 180_000 }, () => {
  let tenant: Awaited<ReturnType<typeof createRgwTenant>>;
  let store: ObjectStore;
  let env: Record<string, string>;
  let work: string;
  const glider = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    await ensureCliBuilt();
    tenant = await createRgwTenant();
    store = createS3StoreForRgw(tenant);
    // What a user would export to point the CLI at their gateway.
    env = {
      STORAGE: "s3",
      S3_ENDPOINT: tenant.endpoint,
      S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: tenant.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: tenant.credentials.secretAccessKey,
      AWS_REGION: tenant.region,
    };
    work = await mkdtemp(join(tmpdir(), "glider-cli-rgw-"));
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await store?.close();
    await tenant?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("stores two releases as reference + deltas, lists original sizes, downloads identical bytes, verifies", async () => {
    await store.createBucket("rgw-cli");
    const [v1, v2] = releaseVersions(300_000, 2, 21);
    const up = join(work, "up");
    await mkdir(up, { recursive: true });
    await writeFile(join(up, "app-1.zip"), v1);
    await writeFile(join(up, "app-2.zip"), v2);
    await writeFile(join(up, "notes ü.txt"), "non-ascii name\n");

    const upload = await glider("cp", "-r", "-q", up, "s3://rgw-cli/rel/");
    expect([upload.code, upload.stderr]).toEqual([0, ""]);
    const physical = (await store.listObjects({ bucket: "rgw-cli", prefix: "rel/" })).objects.map((o) => o.key);
    expect(physical.sort()).toEqual([
      "rel/app-1.zip.delta",
      "rel/app-2.zip.delta",
      "rel/notes ü.txt",
      "rel/reference.bin",
    ]);

    const listing = await glider("ls", "s3://rgw-cli/rel/");
    expect(listing.code).toBe(0);
    // Original sizes (the releases grow a little from version to version), not the deltas' sizes.
    expect(listing.out.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(new RegExp(` ${v1.length} app-1\\.zip$`)),
      expect.stringMatching(new RegExp(` ${v2.length} app-2\\.zip$`)),
      expect.stringMatching(/ {8}15 notes ü\.txt$/),
    ]);

    const down = join(work, "down");
    const download = await glider("cp", "-r", "-q", "s3://rgw-cli/rel/", `${down}/`);
    expect([download.code, download.stderr]).toEqual([0, ""]);
    expect(sha256(await readFile(join(down, "app-1.zip")))).toBe(sha256(v1));
    expect(sha256(await readFile(join(down, "app-2.zip")))).toBe(sha256(v2));
    expect(await readFile(join(down, "notes ü.txt"), "utf8")).toBe("non-ascii name\n");

    const verified = await glider("verify", "s3://rgw-cli/rel/app-2.zip");
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({
      valid: true,
      expected_sha256: sha256(v2),
      actual_sha256: sha256(v2),
    });
  });
});
