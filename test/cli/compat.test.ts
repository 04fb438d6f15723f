import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { createS3StoreFor, type S3rverHandle, startS3rver } from "../helpers/s3rver.js";
import { REPO_ROOT } from "../helpers/shared.js";
import { runCli, s3Env } from "./run.js";

interface Recorded {
  args: string[];
  status: number;
  stdout: string;
  stderr_first_line: string;
}
/** What the DeltaGlider CLI 6.1.2 printed for the same commands on the same files (see `recorded_with`). */
const recorded: Recorded[] = JSON.parse(
  readFileSync(join(REPO_ROOT, "test/fixtures/deltaglider-cli/recorded.json"), "utf8"),
).commands;
const real = (...args: string[]) => {
  const r = recorded.find((c) => c.args.join(" ") === args.join(" "));
  if (!r) throw new Error(`not recorded: ${args.join(" ")}`);
  return r;
};

/** The same command lines as the recorded DeltaGlider CLI run: same output forms, its defects fixed. */
describe("glider against the recorded DeltaGlider CLI", () => {
  let s3: S3rverHandle;
  let store: ObjectStore;
  let env: Record<string, string>;
  let cwd: string;
  const glider = (...args: string[]) => runCli(args, env, { cwd });

  beforeAll(async () => {
    await ensureCliBuilt();
    s3 = await startS3rver();
    store = createS3StoreFor(s3);
    env = s3Env(s3);
    await store.createBucket("rec");
    cwd = await mkdtemp(join(tmpdir(), "glider-cli-compat-"));
    await mkdir(join(cwd, "files"));
    const v1 = randomBytes(200_000);
    const v2 = Buffer.from(v1);
    v2[5000] ^= 1;
    v2[5001] ^= 1;
    await writeFile(join(cwd, "files/app-1.0.zip"), v1);
    await writeFile(join(cwd, "files/app-1.1.zip"), v2);
    await writeFile(join(cwd, "files/notes.txt"), "notes\n");
    for (const name of ["app-1.0.zip", "app-1.1.zip", "notes.txt"]) {
      expect((await glider("cp", "-q", `files/${name}`, "s3://rec/r/")).code).toBe(0);
    }
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await store?.close();
    await s3?.stop();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it("cp to a trailing-slash prefix keeps the folder (the DeltaGlider CLI dropped it and wrote at the bucket root)", async () => {
    expect(real("cp", "files/app-1.0.zip", "s3://rec/r/").stdout).toBe(
      "upload: 'files/app-1.0.zip' to 's3://rec/reference.bin' (reference: 200000 bytes)\n",
    );
    const page = await store.listObjects({ bucket: "rec" });
    expect(page.objects.map((o) => o.key)).toEqual([
      "r/app-1.0.zip.delta",
      "r/app-1.1.zip.delta",
      "r/notes.txt",
      "r/reference.bin",
    ]);
  });

  it("ls prints the same line form, with original sizes where the DeltaGlider CLI printed delta sizes", async () => {
    const line = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [ \d]{10} \S+$/;
    const theirs = real("ls", "-r", "s3://rec/").stdout.trimEnd().split("\n");
    for (const l of theirs) expect(l).toMatch(line);
    expect(theirs.map((l) => l.slice(20))).toEqual([
      "        54 app-1.0.zip",
      "       125 app-1.1.zip",
      "         6 notes.txt",
    ]);
    const ours = (await glider("ls", "s3://rec/r/")).out.trimEnd().split("\n");
    for (const l of ours) expect(l).toMatch(line);
    expect(ours.map((l) => l.slice(20))).toEqual([
      "    200000 app-1.0.zip",
      "    200000 app-1.1.zip",
      "         6 notes.txt",
    ]);
    const summary = (await glider("ls", "-h", "--summarize", "s3://rec/r/")).out;
    expect(real("ls", "-h", "--summarize", "s3://rec/r/").stdout).toBe("\nTotal Objects: 0\n   Total Size:    0.0B\n");
    expect(summary.endsWith("\nTotal Objects: 3\n   Total Size:  390.6K\n")).toBe(true);
  });

  it("stats --detailed --json has every field the DeltaGlider CLI prints, with the same figures", async () => {
    const theirs = JSON.parse(real("stats", "--detailed", "--json", "rec").stdout);
    const ours = JSON.parse((await glider("stats", "--detailed", "--no-cache", "--json", "rec")).out);
    for (const key of Object.keys(theirs)) expect(ours, key).toHaveProperty(key);
    expect(ours).toMatchObject({
      bucket: "rec",
      object_count: theirs.object_count,
      total_size: theirs.total_size,
      delta_objects: theirs.delta_objects,
      direct_objects: theirs.direct_objects,
    });
  });

  it("verify prints the same JSON document (which the DeltaGlider CLI could not, its object being misplaced)", async () => {
    expect(real("verify", "s3://rec/r/app-1.1.zip")).toMatchObject({
      status: 1,
      stderr_first_line: "Error: Object not found: r/app-1.1.zip",
    });
    const ours = await glider("verify", "s3://rec/r/app-1.1.zip");
    expect(ours.code).toBe(0);
    expect(Object.keys(JSON.parse(ours.out))).toEqual(["valid", "expected_sha256", "actual_sha256", "message"]);
  });

  it("dry runs print the DeltaGlider CLI's (dryrun) lines; version answers like it", async () => {
    expect(real("sync", "--dryrun", "files/", "s3://rec/r/").stdout).toBe(
      [
        "(dryrun) upload: files/app-1.0.zip to s3://rec/r/app-1.0.zip",
        "(dryrun) upload: files/app-1.1.zip to s3://rec/r/app-1.1.zip",
        "(dryrun) upload: files/notes.txt to s3://rec/r/notes.txt",
        "",
      ].join("\n"),
    );
    await writeFile(join(cwd, "files/new.txt"), "new\n");
    expect((await glider("sync", "--dryrun", "files/", "s3://rec/r/")).out).toBe(
      "(dryrun) upload: files/new.txt to s3://rec/r/new.txt\n",
    );
    expect(real("--version").stdout).toMatch(/^deltaglider \d+\.\d+\.\d+\n$/);
    expect((await glider("--version")).out).toMatch(/^glider \d+\.\d+\.\d+\n$/);
  });
});
