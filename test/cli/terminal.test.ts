import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsStore } from "../../src/services/storage/fs-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { CLI_ENTRY, CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { fsEnv } from "./run.js";

/** Runs a command on a pseudo-terminal (Python's pty: stdout and stderr both reach it) and returns what it drew. */
const PTY_RUNNER = `
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** What a user at a terminal sees, and what Ctrl-C leaves behind. */
describe("glider at a terminal", () => {
  let dir: string;
  let store: ObjectStore;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await ensureCliBuilt();
    dir = await mkdtemp(join(tmpdir(), "glider-cli-tty-"));
    store = createFsStore(join(dir, "data"));
    await store.createBucket("tty");
    const { STORAGE: _s, LOG_LEVEL: _l, ...base } = process.env;
    env = { ...base, ...fsEnv(join(dir, "data")) };
  }, CLI_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("draws a progress bar with bytes, percent, rate and ETA on a terminal, and nothing when piped", async () => {
    const big = join(dir, "big.bin");
    await writeFile(big, Buffer.alloc(160 * 1024 * 1024, 7));
    const tty = spawnSync("python3", ["-c", PTY_RUNNER, process.execPath, CLI_ENTRY, "cp", big, "s3://tty/big.bin"], {
      env,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(tty.error).toBeUndefined();
    expect(tty.status).toBe(0);
    // Each redraw: carriage return, erase line (ESC [ K), then the line.
    expect(tty.stdout.replaceAll("\x1b[K", "<EL>")).toMatch(
      /\r<EL>upload big\.bin {2}\[[#-]{20}\] {2}[\d.]+ (B|KiB|MiB) \/ 160\.0 MiB \d+% {2}[\d.]+ \w+\/s {2}ETA \d\d:\d\d/,
    );
    expect(tty.stdout).toContain("upload: '");

    const quiet = spawnSync(
      "python3",
      ["-c", PTY_RUNNER, process.execPath, CLI_ENTRY, "cp", "-q", big, "s3://tty/big2.bin"],
      {
        env,
        encoding: "utf8",
      },
    );
    expect([quiet.status, quiet.stdout]).toEqual([0, ""]);
    const piped = spawnSync(process.execPath, [CLI_ENTRY, "cp", "s3://tty/big.bin", join(dir, "back.bin")], {
      env,
      encoding: "utf8",
    });
    expect(piped.status).toBe(0);
    expect(piped.stderr).toBe("");
    expect(piped.stdout).toMatch(/^download: 's3:\/\/tty\/big\.bin' to '.*back\.bin' \(167772160 bytes\)\n$/);
  });

  it("Ctrl-C during an upload exits 130 and leaves no object, no spool file and no temp file", async () => {
    const spool = join(dir, "spool");
    await mkdir(spool);
    const child = spawn(process.execPath, [CLI_ENTRY, "cp", "-", "s3://tty/interrupted.tar"], {
      env: { ...env, TMPDIR: spool },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = once(child, "close");
    // Once 8 MiB have gone through the pipe, the command is reading (and spooling) the upload.
    const chunk = Buffer.alloc(1024 * 1024, 1);
    for (let i = 0; i < 8; i++)
      await new Promise<void>((resolve, reject) => child.stdin.write(chunk, (e) => (e ? reject(e) : resolve())));
    child.kill("SIGINT");
    const [code] = await exited;
    expect(code).toBe(130);
    expect(stderr).toBe("interrupted: SIGINT\n");
    await expect(store.headObject("tty", "interrupted.tar")).rejects.toMatchObject({ code: "key_not_found" });
    expect(await readdir(spool)).toEqual([]);
    const page = await store.listObjects({ bucket: "tty", prefix: "interrupted" });
    expect(page.objects).toEqual([]);
    // The store's temp folders (this test's and the CLI's own, if still there) hold no file.
    const tmpRoot = join(dir, "data", ".glider-tmp");
    const tempFiles = (await readdir(tmpRoot, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(tempFiles.map((e) => e.name)).toEqual([]);
  });

  it("a reader that goes away (glider cp … - | head) stops the command quietly with 141, as SIGPIPE would", async () => {
    await store.putObject({ bucket: "tty", key: "piped.bin", body: Buffer.alloc(32 * 1024 * 1024, 3) });
    const child = spawn(process.execPath, [CLI_ENTRY, "cp", "s3://tty/piped.bin", "-"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = once(child, "close");
    // The first bytes arrived: the download is streaming. Then the reader closes its end, as `head` does.
    await once(child.stdout, "data");
    child.stdout.destroy();
    const [code] = await exited;
    expect({ code, stderr }).toEqual({ code: 141, stderr: "" });
  });
});
