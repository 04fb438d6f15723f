import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/shared.js";

function startMain(env: Record<string, string>) {
  return spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/main.ts")], {
    cwd: REPO_ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function exitOf(child: ReturnType<typeof startMain>) {
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stderr };
}

describe("the glider process", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["STORAGE", "nope"],
    ["PORT", "abc"],
  ])("exits non-zero with one line naming %s when it is %j", async (variable, value) => {
    const { code, stderr } = await exitOf(startMain({ [variable]: value }));
    expect(code).not.toBe(0);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^invalid configuration: ${variable}: `));
  });

  it("serves on the filesystem store and exits 0 on SIGTERM", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "glider-main-"));
    dirs.push(dataDir);
    const child = startMain({ PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "info" });
    const exited = exitOf(child);
    if (!child.stdout) throw new Error("no stdout");
    const lines = createInterface({ input: child.stdout });
    let seeded!: () => void;
    const demoSeeded = new Promise<void>((resolve) => {
      seeded = resolve;
    });
    const base = await new Promise<string>((resolve, reject) => {
      lines.on("line", (line) => {
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (match) resolve(match[1]);
        if (line.includes("seeded demo bucket")) seeded();
      });
      child.once("exit", () => reject(new Error("exited before listening")));
    });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { storage: { backend: "fs" } } });
    await demoSeeded;
    expect(await readdir(join(dataDir, "demo", "releases", "viewer"))).toContain("reference.bin@meta");
    // Graceful: exit code 0 (how fast it closes is a figure for the benchmarks; the test's timeout bounds a hang).
    child.kill("SIGTERM");
    const { code } = await exited;
    expect(code).toBe(0);
    // It closed its store: no temp folder of this process is left under the shared data dir.
    expect((await readdir(join(dataDir, ".glider-tmp"))).filter((name) => name.startsWith(`p${child.pid}-`))).toEqual(
      [],
    );
  });

  it("reads .env from its working directory at start-up; the environment wins", async () => {
    const dir = await mkdtemp(join(tmpdir(), "glider-dotenv-"));
    dirs.push(dir);
    // From the file: memory store, GraphiQL off. LOG_LEVEL in the file is invalid: the environment's must win.
    await writeFile(join(dir, ".env"), "STORAGE=memory\nGRAPHIQL=false\nLOG_LEVEL=nonsense\nPORT=1\n");
    const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(REPO_ROOT, "src/main.ts")], {
      cwd: dir,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", LOG_LEVEL: "info", PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = exitOf(child);
    if (!child.stdout) throw new Error("no stdout");
    const lines = createInterface({ input: child.stdout });
    const base = await new Promise<string>((resolve, reject) => {
      lines.on("line", (line) => {
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (match) resolve(match[1]);
      });
      child.once("exit", () => reject(new Error("exited before listening")));
    });
    const ready = await fetch(`${base}/ready`);
    expect(await ready.json()).toMatchObject({ checks: { storage: { backend: "memory" } } });
    const page = await fetch(`${base}/graphql`, { headers: { accept: "text/html" } });
    expect(await page.text()).not.toContain("GraphiQL");
    child.kill("SIGTERM");
    expect((await exited).code).toBe(0);
  });
});
