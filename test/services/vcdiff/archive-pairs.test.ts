/**
 * The stress generator's archives are real: python's zipfile and GNU tar read every member of the zip, tar and
 * tar.gz versions it writes (pairs whose target was cut or extended on purpose are checked on the source only).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArchiveFormat, archivePair } from "../../helpers/archive-pairs.js";

const run = promisify(execFile);

async function list(path: string, format: ArchiveFormat): Promise<string[]> {
  if (format === "zip") {
    // testzip() reads and CRC-checks every member.
    const script =
      "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint('\\n'.join(z.namelist()))";
    const { stdout } = await run("python3", ["-c", script, path]);
    return stdout.trim().split("\n");
  }
  const { stdout } = await run("tar", [format === "tgz" ? "-tzf" : "-tf", path]);
  return stdout.trim().split("\n");
}

describe("archive pair generator", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "glider-archives-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is deterministic per seed and varies across seeds", () => {
    const a = archivePair(42, { contentBytes: 64 * 1024 });
    const b = archivePair(42, { contentBytes: 64 * 1024 });
    const c = archivePair(43, { contentBytes: 64 * 1024 });
    expect(a.target.equals(b.target) && a.source.equals(b.source)).toBe(true);
    expect(a.source.equals(c.source)).toBe(false);
  });

  for (const format of ["zip", "tar", "tgz"] as const) {
    it(`writes ${format} archives of 50–500 members that ${format === "zip" ? "python zipfile" : "tar"} reads`, async () => {
      for (let seed = 1; seed <= 4; seed++) {
        const pair = archivePair(seed, { format, contentBytes: 96 * 1024 });
        const whole = !pair.edits.some((e) => e === "append data" || e === "truncate archive");
        for (const [name, bytes] of [["source", pair.source], ...(whole ? [["target", pair.target]] : [])] as const) {
          const path = join(dir, `${seed}-${name}.${format}`);
          await writeFile(path, bytes);
          const names = await list(path, format);
          expect(names.length, `${format} seed ${seed} ${name}`).toBeGreaterThanOrEqual(50);
          expect(names.length).toBeLessThanOrEqual(520);
          if (name === "target") expect(names.length).toBe(pair.members);
        }
      }
    });
  }
});
