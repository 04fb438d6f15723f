import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import encodeTask, { verifyRebuilds } from "../../../src/services/deltaglider/encode-worker.js";

describe("encode task", () => {
  let dir: string;
  const source = randomBytes(3 * 1024 * 1024);
  const target = Buffer.concat([source.subarray(0, 1_000_000), randomBytes(5000), source.subarray(1_000_000)]);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-encode-"));
    await writeFile(join(dir, "target"), target);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("encodes a small delta and proves it rebuilds the target", async () => {
    const deltaPath = join(dir, "delta");
    const result = await encodeTask({
      source,
      targetPath: join(dir, "target"),
      deltaPath,
      appHeader: "t//reference.bin/",
      expectedSize: target.length,
    });
    expect(result.deltaSize).toBeGreaterThan(5000);
    expect(result.deltaSize).toBeLessThan(20_000);
  });

  it("refuses a delta that rebuilds other bytes or another length than the upload", async () => {
    const deltaPath = join(dir, "delta-2");
    await encodeTask({
      source,
      targetPath: join(dir, "target"),
      deltaPath,
      appHeader: "",
      expectedSize: target.length,
    });
    const changed = Buffer.from(target);
    changed[2_500_000] ^= 1;
    await writeFile(join(dir, "changed"), changed);
    await expect(
      verifyRebuilds({ deltaPath, targetPath: join(dir, "changed"), expectedSize: target.length }, source),
    ).rejects.toThrow(/does not rebuild the upload/);
    await expect(
      verifyRebuilds({ deltaPath, targetPath: join(dir, "target"), expectedSize: target.length + 1 }, source),
    ).rejects.toThrow(/rebuilds \d+ bytes/);
    await expect(
      verifyRebuilds({ deltaPath, targetPath: join(dir, "target"), expectedSize: target.length }, source),
    ).resolves.toBeUndefined();
  });

  it("reports a delta that fails its proof as proofFailure (the upload then stores the file whole), not as an error", async () => {
    const deltaPath = join(dir, "delta-3");
    const good = await encodeTask({
      source,
      targetPath: join(dir, "target"),
      deltaPath,
      appHeader: "",
      expectedSize: target.length,
    });
    expect(good.proofFailure).toBeUndefined();
    const bad = await encodeTask({
      source,
      targetPath: join(dir, "target"),
      deltaPath,
      appHeader: "",
      expectedSize: target.length + 1,
    });
    expect(bad.proofFailure).toMatch(/rebuilds \d+ bytes, the upload has/);
    // I/O failures are still errors: they are not the encoder's fault.
    await expect(
      encodeTask({ source, targetPath: join(dir, "missing"), deltaPath, appHeader: "", expectedSize: 1 }),
    ).rejects.toThrow(/ENOENT/);
  });
});
