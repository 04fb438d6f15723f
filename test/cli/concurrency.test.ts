import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsStore } from "../../src/services/storage/fs-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { fsEnv, runCli, treeOf } from "./run.js";

const SPACES = 4;
const VERSIONS = 4;

/** `--debug` logs one JSON line per storage call on stderr. */
function storageCalls(errLines: string[]): { operation: string; outcome: string }[] {
  return errLines
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string; operation: string; outcome: string })
    .filter((l) => l.msg === "storage call");
}

/**
 * Recursive downloads run `-j` objects at once: every object is still reported, a failing one does not stop the
 * others, and the exit status says one failed. Each listed object is opened by the key the listing showed.
 */
describe("glider CLI: concurrent recursive downloads", { timeout: 240_000 }, () => {
  let work: string;
  let env: Record<string, string>;
  let store: ObjectStore;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    await ensureCliBuilt();
    work = await mkdtemp(join(tmpdir(), "glider-cli-jobs-"));
    const data = join(work, "data");
    env = fsEnv(data);
    store = createFsStore(data);
    await store.createBucket("rel");
    // SPACES DeltaSpaces × VERSIONS similar releases: every object is stored as a delta.
    for (let s = 0; s < SPACES; s++) {
      let bytes = randomBytes(40_000);
      for (let v = 0; v < VERSIONS; v++) {
        const rel = `p${s}/app-1.${v}.zip`;
        files.set(rel, bytes);
        await mkdir(join(work, "up", `p${s}`), { recursive: true });
        await writeFile(join(work, "up", rel), bytes);
        bytes = Buffer.from(bytes);
        bytes[(v * 997) % bytes.length] ^= 0xff;
      }
    }
    const up = await runCli(["cp", "-r", "-q", join(work, "up"), "s3://rel/"], env);
    expect(up.errLines).toEqual([]);
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("cp -r -j 8 writes every file once, with one HEAD per object and no lookup of a missing key", async () => {
    const out = join(work, "down");
    const r = await runCli(["--debug", "cp", "-r", "-j", "8", "s3://rel/", out], env);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines).toHaveLength(files.size);
    expect(new Set(lines).size).toBe(files.size);
    for (const [rel, bytes] of files) {
      expect(lines.filter((l) => l.includes(`s3://rel/${rel}'`))).toHaveLength(1);
      expect((await readFile(join(out, rel))).equals(bytes), rel).toBe(true);
    }
    const calls = storageCalls(r.errLines);
    expect(calls.filter((c) => c.outcome === "key_not_found")).toEqual([]);
    expect(calls.filter((c) => c.operation === "headObject")).toHaveLength(files.size);
  });

  it("cp -r -j 8 with one damaged delta: the others are written and reported, one failure line, exit 1", async () => {
    const broken = "p2/app-1.2.zip";
    // The delta is intact but its recorded sha256 is another file's: it decodes, and verification must refuse it.
    const got = await store.getObject({ bucket: "rel", key: `${broken}.delta` });
    const body = Buffer.concat(await got.body.toArray());
    const metadata = { ...got.head.metadata, "dg-file-sha256": "0".repeat(64) };
    expect(got.head.metadata["dg-file-sha256"]).toMatch(/^[0-9a-f]{64}$/);
    await store.putObject({ bucket: "rel", key: `${broken}.delta`, body, metadata });

    const out = join(work, "down-broken");
    const r = await runCli(["cp", "-r", "-j", "8", "s3://rel/", out], env);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([
      expect.stringMatching(new RegExp(`^integrity_failed: .*${broken.replace(/\./g, "\\.")}`)),
      `cp: 1 of ${files.size} objects failed`,
    ]);
    expect(r.out.trimEnd().split("\n")).toHaveLength(files.size - 1);
    // No partial or temporary file of the failed one either.
    const written = (await treeOf(out)).filter((p) => !p.endsWith("/")).sort();
    expect(written).toEqual([...files.keys()].filter((k) => k !== broken).sort());
  });
});
