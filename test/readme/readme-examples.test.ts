import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, listen } from "../helpers/app.js";
import { CLI_SETUP_TIMEOUT_MS, ensureCliBuilt } from "../helpers/cli-build.js";
import { type ReadmeExample, readmeExamples } from "../helpers/readme.js";
import { createS3StoreFor, startS3rver } from "../helpers/s3rver.js";
import { REPO_ROOT } from "../helpers/shared.js";
import { transports } from "../helpers/subscriptions.js";

/*
 * README.md's examples, run as written against a started Glider, so a broken example fails CI.
 *
 * Conventions (how a README example becomes a test run):
 * - The server is a real process, as `npm start` runs it (`tsx src/main.ts`, NODE_ENV=development, the demo seeded),
 *   on 127.0.0.1, a free port and a temp DATA_DIR. Every `localhost:4000` in an example is that server.
 * - `npm start &` inside a block is that server: the block's `export NAME=value` lines are its environment.
 * - A shell block runs in ONE bash (`set -euo pipefail`), its commands in README order, so values flow from one
 *   command to the next (`TOKEN=$(…)`, `$ID`), in a temp working folder. Every variable a block assigns from a
 *   command must end non-empty and not `null` (a `jq -r` of a missing field).
 * - `curl` is the real curl (it, jq and the coreutils the examples use must be installed: TOOLS). Every HTTP answer
 *   must be 2xx (an error stops the block at that command), except where the line's comment shows the error envelope
 *   (`# {"error":{"code":"X",…}}`): then a 4xx carrying code X.
 * - `glider` is the compiled CLI (bin/glider.js) on the server's own store (STORAGE=fs, the same DATA_DIR). The files
 *   and buckets the CLI lines assume are CLI_FILES, CLI_BUCKETS and OLD_BUCKET_OBJECTS, the buckets made through the
 *   server's REST API.
 * - Inline code spans that start with `curl` run like one-line blocks.
 * - The Send section's S3 variant (`curl -X PUT … "$URL"`) runs against a second server on s3rver (presigned mode):
 *   `$URL` is the create answer's `upload.url`, `secret.bin` a payload in the working folder.
 * - Every fenced block is either run here (HANDLED) or listed in EXCLUDED with the reason; a new block fails "every
 *   README example is run or excluded" until it is classified. Inline `curl` spans run in the inline test unless
 *   HANDLED elsewhere or EXCLUDED.
 */

const PRESIGNED_PUT =
  "Send inline: curl -X PUT -H 'content-type: application/octet-stream' --data-binary @secret.bin \"$URL\"";

/**
 * Examples and the test that runs them. Fenced blocks are keyed `<section> ```<lang> #<n>` (n counts blocks of that
 * language in that section), inline spans `<section> inline: <code>`.
 */
const HANDLED: Record<string, "shell" | "cli" | "graphql" | "s3-presigned"> = {
  "Glider ```sh #2": "shell",
  "Command line ```sh #1": "cli",
  "GraphQL ```graphql #1": "graphql",
  "Send ```sh #1": "shell",
  [PRESIGNED_PUT]: "s3-presigned",
};
const EXCLUDED: Record<string, string> = {
  "Glider ```sh #1":
    "`npm ci` reinstalls node_modules and `npm test` runs the whole suite, this file included; `npm start` is what this " +
    "test starts as its server (tsx src/main.ts)",
  "DeltaGlider Commander UI ```sh #1":
    "clones the Commander UI from GitHub and installs it with pnpm from the registry: no network in tests; serving a " +
    "built UI from UI_DIR is tested by test/rest/commander/browser.test.ts",
  "Architecture ``` #1": "a folder tree, not a command",
};

/**
 * The environment of the server and of the examples: only what a shell needs, so nothing the test runner's
 * environment happens to hold (STORAGE, S3_*, REDIS_URL, LOG_LEVEL, NODE_ENV=test, …) changes what is tested.
 */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keep = ["PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"];
  return { ...Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : []))), ...extra };
}

/** Tools the README's shell examples use; .ci/run installs the missing ones with apt-get. */
const TOOLS = ["bash", "curl", "jq", "cmp", "sha256sum", "head", "wc", "cut"];

function missingTools(): string[] {
  return TOOLS.filter((tool) => {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
}

/** A key for each example that the tables above use. */
function keysOf(examples: ReadmeExample[]): { key: string; example: ReadmeExample }[] {
  const counts = new Map<string, number>();
  return examples
    .filter((e) => e.lang !== "inline" || /^curl\s/.test(e.code))
    .map((example) => {
      if (example.lang === "inline") return { key: `${example.section} inline: ${example.code}`, example };
      const base = `${example.section} \`\`\`${example.lang}`;
      const n = (counts.get(base) ?? 0) + 1;
      counts.set(base, n);
      return { key: `${base} #${n}`, example };
    });
}

interface Command {
  /** README line where the command starts. */
  line: number;
  source: string;
}

/** A block's commands: `\`-continued lines joined, comment-only and blank lines dropped. */
function commandsOf(example: ReadmeExample): Command[] {
  const lines = example.code.split("\n");
  const out: Command[] = [];
  const first = example.lang === "inline" ? example.line : example.line + 1;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let source = lines[i];
    while (source.endsWith("\\") && i + 1 < lines.length) source = `${source}\n${lines[++i]}`;
    if (source.trim() === "" || source.trim().startsWith("#")) continue;
    out.push({ line: first + start, source });
  }
  return out;
}

const SERVER_START = /;?\s*npm start &\s*$/;

/** The error code a command's comment documents as its answer (`# {"error":{"code":"X",…}}`), if any. */
function documentedErrorOf(source: string): string | undefined {
  return /#.*\{"error":\{"code":"(\w+)"/.exec(source)?.[1];
}

/** The `export NAME=value` of the commands that start the server (`… npm start &`). */
function serverEnvOf(examples: ReadmeExample[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const example of examples.filter((e) => e.lang === "sh")) {
    for (const command of commandsOf(example).filter((c) => SERVER_START.test(c.source))) {
      for (const [, name, value] of command.source.matchAll(/export +(\w+)=([^\s;]+)/g)) env[name] = value;
    }
  }
  return env;
}

interface CommandRun extends Command {
  stdout: string;
  stderr: string;
  /** HTTP status of every curl exchange of the command, in order. */
  statuses: number[];
}

interface ShellRun {
  code: number | null;
  commands: CommandRun[];
  /** Variables the block assigned from a command, as they ended. */
  vars: Record<string, string>;
}

/** Runs a block's commands in one bash, marking each command's output (see the conventions at the top). */
async function runShell(
  example: ReadmeExample,
  options: { base: string; cwd: string; env?: Record<string, string> },
): Promise<ShellRun> {
  const host = options.base.replace(/^http:\/\//, "");
  const commands = commandsOf(example).map((c) => ({
    ...c,
    source: c.source.replace(SERVER_START, "").replaceAll("localhost:4000", host),
  }));
  const vars = [...new Set(commands.flatMap((c) => [...c.source.matchAll(/^(\w+)=\$\(/gm)].map((m) => m[1])))];
  const script = [
    "set -euo pipefail",
    // Real curl, with each answer's status written to stderr after the body; an HTTP error stops the block right
    // there (--fail-with-body) unless the command's comment documents that error.
    `curl() { command curl $([ "$README_EXPECTS_ERROR" = 1 ] || echo --fail-with-body) --write-out '%{stderr}\\n@@http %{http_code}@@\\n' "$@"; }`,
    `glider() { "${process.execPath}" "${join(REPO_ROOT, "bin", "glider.js")}" "$@"; }`,
    ...commands.flatMap((c, i) => [
      `printf '\\n@@cmd ${i}@@\\n'; printf '\\n@@cmd ${i}@@\\n' >&2`,
      `README_EXPECTS_ERROR=${documentedErrorOf(c.source) ? 1 : 0}`,
      c.source,
      // A value the next commands need must be there: stop at the command that failed to produce it.
      ...[...c.source.matchAll(/^(\w+)=\$\(/gm)].map(
        ([, v]) => `case "\${${v}-}" in ""|null) echo 'README example: $${v} is empty or null' >&2; exit 1;; esac`,
      ),
    ]),
    `printf '\\n@@cmd end@@\\n'; printf '\\n@@cmd end@@\\n' >&2`,
    ...vars.map((v) => `printf '@@var ${v}=%s@@\\n' "\${${v}-}"`),
  ].join("\n");
  const child = spawn("bash", ["-c", script], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  const segments = (text: string) => {
    const parts = text.split(/\n@@cmd (\d+|end)@@\n/);
    const out = new Map<string, string>();
    for (let i = 1; i < parts.length; i += 2) out.set(parts[i], parts[i + 1]);
    return out;
  };
  const outs = segments(stdout);
  const errs = segments(stderr);
  const ran: CommandRun[] = commands
    .map((c, i) => ({ c, out: outs.get(String(i)), err: errs.get(String(i)) ?? "" }))
    .filter(({ out }) => out !== undefined)
    .map(({ c, out, err }) => ({
      ...c,
      stdout: out ?? "",
      stderr: err.replace(/\n?@@http \d+@@\n?/g, ""),
      statuses: [...err.matchAll(/@@http (\d+)@@/g)].map((m) => Number(m[1])),
    }));
  const assigned = Object.fromEntries(
    [...(outs.get("end") ?? "").matchAll(/@@var (\w+)=([\s\S]*?)@@/g)].map((m) => [m[1], m[2]]),
  );
  return { code, commands: ran, vars: assigned };
}

function describeCommand(run: CommandRun) {
  return `README.md:${run.line}: ${run.source}\n--- HTTP statuses: ${run.statuses.join(", ") || "none"}\n--- stdout\n${run.stdout.slice(0, 2000)}\n--- stderr\n${run.stderr.slice(0, 2000)}`;
}

/** The generic checks every shell block passes; returns the runs for block-specific checks. */
function expectShellSucceeded(example: ReadmeExample, result: ShellRun): CommandRun[] {
  const expectedCount = commandsOf(example).length;
  const last = result.commands.at(-1);
  if (result.code !== 0 || result.commands.length !== expectedCount) {
    throw new Error(
      `README.md:${example.line}: the block stopped (exit ${result.code}) at\n${last && describeCommand(last)}`,
    );
  }
  for (const run of result.commands) {
    if (!/(^|[\s($|])curl\s/.test(run.source)) continue;
    expect(run.statuses.length, `no HTTP answer: ${describeCommand(run)}`).toBeGreaterThan(0);
    const documentedError = documentedErrorOf(run.source);
    for (const status of run.statuses) {
      if (documentedError) {
        expect(status, describeCommand(run)).toBeGreaterThanOrEqual(400);
        expect(status, describeCommand(run)).toBeLessThan(500);
        expect(JSON.parse(run.stdout), describeCommand(run)).toMatchObject({ error: { code: documentedError } });
      } else {
        expect(status, describeCommand(run)).toBeGreaterThanOrEqual(200);
        expect(status, describeCommand(run)).toBeLessThan(300);
      }
    }
  }
  for (const [name, value] of Object.entries(result.vars)) {
    expect(value, `$${name} after README.md:${example.line}`).not.toMatch(/^(|null)$/);
  }
  return result.commands;
}

/** The run of the one command whose source matches. */
function commandMatching(runs: CommandRun[], pattern: RegExp): CommandRun {
  const found = runs.filter((r) => pattern.test(r.source));
  if (found.length !== 1) throw new Error(`expected one README command matching ${pattern}, found ${found.length}`);
  return found[0];
}

/** Rejects with `what` when the promise does not settle within `ms` (a subscription that never answers). */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Deterministic bytes: a sha256 counter stream (similar files share a prefix, so they become deltas). */
function bytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, offset = 0; offset < length; i++, offset += 32) {
    createHash("sha256").update(`${seed}:${i}`).digest().copy(out, offset);
  }
  return out;
}

/** A release-like file: a shared body and a version-specific tail. */
const release = (version: string) => Buffer.concat([bytes("release", 60_000), bytes(version, 2_000)]);

/** Local files the README's CLI lines name (relative to the working folder). */
const CLI_FILES: Record<string, Buffer> = {
  "app-1.2.zip": release("1.2"),
  "dist/app-1.3.zip": release("1.3"),
  "dist/app-1.4.zip": release("1.4"),
  "dist/NOTES.txt": Buffer.from("not a zip: --include '*.zip' leaves it out\n"),
  "site/index.html": Buffer.from("<!doctype html><title>site</title>\n"),
  "site/css/site.css": Buffer.from("body { margin: 0 }\n"),
};
/** Buckets the CLI lines name, and what `migrate` finds in the old one. */
const CLI_BUCKETS = ["bucket", "old-bucket"];
const OLD_BUCKET_OBJECTS: Record<string, Buffer> = {
  "builds/app-1.0.zip": release("1.0"),
  "builds/app-1.1.zip": release("1.1"),
};

async function filesBelow(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

describe("README.md examples, run against a started Glider", () => {
  const examples = readmeExamples();
  const keyed = keysOf(examples);
  const example = (key: string) => {
    const found = keyed.find((k) => k.key === key);
    if (!found) throw new Error(`README.md has no example ${key} any more: update HANDLED`);
    return found.example;
  };
  /** Inline curl spans no other test runs. */
  const inlineSpans = () =>
    keyed.filter((k) => k.example.lang === "inline" && !(k.key in EXCLUDED) && !(k.key in HANDLED));
  let server: ChildProcess | undefined;
  let base: string;
  let dataDir: string;
  let work: string;

  beforeAll(async () => {
    const missing = missingTools();
    if (missing.length)
      throw new Error(`the README examples need ${missing.join(", ")}: not installed (.ci/run installs them)`);
    await ensureCliBuilt();
    dataDir = await mkdtemp(join(tmpdir(), "glider-readme-data-"));
    work = await mkdtemp(join(tmpdir(), "glider-readme-work-"));
    // cwd: an empty folder, so a developer's .env in the clone does not change the server under test.
    const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(REPO_ROOT, "src/main.ts")], {
      cwd: work,
      env: cleanEnv({
        NODE_ENV: "development",
        HOST: "127.0.0.1",
        PORT: "0",
        STORAGE: "fs",
        DATA_DIR: dataDir,
        LOG_LEVEL: "info",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...serverEnvOf(examples),
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    server = child;
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let listening = false;
    base = await new Promise<string>((resolve, reject) => {
      let address: string | undefined;
      lines.on("line", (line) => {
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (match) address = match[1];
        // The README's examples browse the demo bucket: wait for the seed, as a reader would.
        if (line.includes("seeded demo bucket") && address) {
          listening = true;
          resolve(address);
        }
      });
      child.once("exit", (code) => {
        if (!listening) reject(new Error(`the server exited (${code}) before it was ready: ${stderr}`));
      });
    });
  }, CLI_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
    for (const dir of [dataDir, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("every README example is run here or excluded with a reason", () => {
    const keys = keyed.map((k) => k.key);
    const unclassified = keyed.filter(
      ({ key, example }) => !(key in HANDLED) && !(key in EXCLUDED) && example.lang !== "inline",
    );
    expect(
      unclassified.map(({ key, example }) => `README.md:${example.line} ${key}`),
      "new README examples: run them in this test (HANDLED) or add them to EXCLUDED with the reason",
    ).toEqual([]);
    // The lists name nothing that is gone (a renamed section must be reclassified, not silently dropped).
    expect([...Object.keys(HANDLED), ...Object.keys(EXCLUDED)].filter((k) => !keys.includes(k))).toEqual([]);
    for (const reason of Object.values(EXCLUDED)) expect(reason.length).toBeGreaterThan(20);
    // Sanity: the README still has the examples the issue names.
    expect(inlineSpans().length).toBeGreaterThanOrEqual(2);
  });

  it("the inline curl lines (health, ready) answer 2xx as described", async () => {
    for (const { example: span } of inlineSpans()) {
      const runs = expectShellSucceeded(span, await runShell(span, { base, cwd: work }));
      expect(runs).toHaveLength(1);
      const body = JSON.parse(runs[0].stdout);
      expect(body, describeCommand(runs[0])).toBeTypeOf("object");
      if (/\/ready\b/.test(span.code)) expect(body).toMatchObject({ ready: true });
      if (/\/health\b/.test(span.code)) expect(body).toMatchObject({ status: "ok" });
    }
  });

  it("the GraphQL curl line answers the health query without errors", async () => {
    const block = example("Glider ```sh #2");
    const runs = expectShellSucceeded(block, await runShell(block, { base, cwd: work }));
    const body = JSON.parse(commandMatching(runs, /\/graphql/).stdout);
    expect(body.errors).toBeUndefined();
    expect(body.data.health).toMatchObject({ status: "ok", ready: true, storageBackend: "fs" });
  });

  it("the three GraphQL examples: Folder query, Download mutation, Savings subscription (SSE and WebSocket) to DONE", async () => {
    const block = example("GraphQL ```graphql #1");
    const document = parse(block.code);
    const operations = document.definitions.flatMap((d) =>
      d.kind === "OperationDefinition" ? [{ name: d.name?.value ?? "", type: d.operation }] : [],
    );
    expect(operations.map((o) => o.name)).toEqual(["Folder", "Download", "Savings"]);
    const post = async (operationName: string) => {
      const res = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: block.code, operationName }),
      });
      expect(res.status, operationName).toBe(200);
      const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
      expect(body.errors, `${operationName}: ${JSON.stringify(body.errors)}`).toBeUndefined();
      return body.data as unknown;
    };

    const folder = (await post("Folder")) as {
      bucket: { objects: { edges: { node: { key: string; sha256: string; originalBytes: number } }[] } };
    };
    const nodes = folder.bucket.objects.edges.map((e) => e.node);
    expect(nodes.length).toBeGreaterThan(0);
    // SIZE_DESC, as the example asks.
    const sizes = nodes.map((n) => n.originalBytes);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));

    const ticket = (await post("Download")) as {
      prepareDownload: { download: { url: string; estimatedBytes: number } };
    };
    const key = /key: "([^"]+)"/.exec(block.code)?.[1];
    const listed = nodes.find((n) => n.key === key);
    expect(listed, `the Download example's key ${key} is in the Folder example's listing`).toBeDefined();
    const download = await fetch(new URL(ticket.prepareDownload.download.url, base));
    expect(download.status).toBe(200);
    const content = Buffer.from(await download.arrayBuffer());
    expect(content.length).toBe(ticket.prepareDownload.download.estimatedBytes);
    expect(createHash("sha256").update(content).digest("hex")).toBe(listed?.sha256);

    // The subscription as written (its inline argument included), over SSE and over graphql-ws at once: the current
    // state first, then a job started elsewhere runs to DONE on both.
    const savings = operations.find((o) => o.type === "subscription");
    expect(savings?.name).toBe("Savings");
    type Progress = { savingsProgress: { state: string; savingsPct: number | null } };
    const streams = Object.entries(transports).map(([name, subscribe]) => ({
      name,
      stream: subscribe<Progress>(base, block.code, undefined, {}, "Savings"),
    }));
    try {
      for (const { name, stream } of streams) {
        const first = await within(15_000, stream.next(), `the Savings subscription's first event (${name})`);
        expect(first?.errors, name).toBeUndefined();
        expect(first?.data?.savingsProgress.state, name).toBe("IDLE");
      }
      const bucket = /savingsProgress\(bucket: "([^"]+)"\)/.exec(block.code)?.[1];
      const started = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: `mutation { computeSavings(input: { bucket: ${JSON.stringify(bucket)} }) { job { taskId } } }`,
        }),
      });
      expect((await started.json()).data.computeSavings.job.taskId).toBeTruthy();
      for (const { name, stream } of streams) {
        const events = await within(30_000, stream.rest(), `the Savings subscription's DONE (${name})`);
        expect(
          events.every((e) => e.errors === undefined),
          name,
        ).toBe(true);
        const terminal = events.at(-1)?.data?.savingsProgress;
        expect(terminal?.state, name).toBe("DONE");
        expect(terminal?.savingsPct, name).toBeTypeOf("number");
      }
    } finally {
      for (const { stream } of streams) await stream.close();
    }
  });

  it("the Send walk-through runs end to end: token, create, upload, complete, status, download, 410, audit", async () => {
    const block = example("Send ```sh #1");
    const cwd = await mkdtemp(join(work, "send-"));
    const result = await runShell(block, { base, cwd });
    const runs = expectShellSucceeded(block, result);
    expect(result.vars.ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const complete = JSON.parse(commandMatching(runs, /upload\/complete/).stdout);
    expect(JSON.stringify(complete)).toContain(result.vars.ID);
    const statuses = runs.filter((r) => /\/status\s*(#|$)/.test(r.source));
    expect(statuses).toHaveLength(2);
    expect(JSON.parse(statuses[0].stdout)).toMatchObject({
      transfer: { transfer_id: result.vars.ID, status: "completed" },
    });
    expect(JSON.parse(statuses[1].stdout)).toMatchObject({ error: { code: "transfer_exhausted" } });
    // The download matched (`cmp` in the block) and is the 1,000,000 bytes the sender made.
    expect((await readFile(join(cwd, "copy.bin"))).length).toBe(1_000_000);
    const actions = JSON.parse(commandMatching(runs, /actions\/list/).stdout);
    expect(JSON.stringify(actions)).toMatch(/download/);
    const audit = JSON.parse(commandMatching(runs, /admin\/audit/).stdout);
    expect(JSON.stringify(audit)).toContain("upload-bytes");
  });

  it("the CLI lines run against the server's store: cp, cp -r, ls, sync both ways, migrate, stats", async () => {
    const block = example("Command line ```sh #1");
    const cwd = await mkdtemp(join(work, "cli-"));
    for (const [path, content] of Object.entries(CLI_FILES)) {
      await mkdir(dirname(join(cwd, path)), { recursive: true });
      await writeFile(join(cwd, path), content);
    }
    for (const name of CLI_BUCKETS) {
      const res = await fetch(`${base}/api/buckets`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name }),
      });
      expect(res.status, `create bucket ${name}`).toBe(201);
    }
    for (const [key, content] of Object.entries(OLD_BUCKET_OBJECTS)) {
      const res = await fetch(`${base}/api/upload?bucket=old-bucket&key=${encodeURIComponent(key)}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array(content),
      });
      expect(res.status, `upload ${key}`).toBe(200);
    }
    const cache = await mkdtemp(join(work, "cache-"));
    const result = await runShell(block, {
      base,
      cwd,
      env: { STORAGE: "fs", DATA_DIR: dataDir, XDG_CACHE_HOME: cache },
    });
    const runs = expectShellSucceeded(block, result);

    // cp to a folder keeps the name; cp -r of the bucket brings it back byte for byte.
    expect(await readFile(join(cwd, "out/releases/app-1.2.zip"))).toEqual(CLI_FILES["app-1.2.zip"]);
    // ls -r -h --summarize shows it with a summary.
    const ls = commandMatching(runs, /glider ls /).stdout;
    expect(ls).toContain("app-1.2.zip");
    // sync up, then down: the mirror has the site.
    expect(await filesBelow(join(cwd, "mirror"))).toEqual(await filesBelow(join(cwd, "site")));
    for (const file of await filesBelow(join(cwd, "site"))) {
      expect(await readFile(join(cwd, "mirror", file))).toEqual(await readFile(join(cwd, "site", file)));
    }
    // What the server sees: --include took only the zips, migrate kept the folder name.
    const list = async (prefix: string) => {
      const res = await fetch(`${base}/api/objects?bucket=bucket&prefix=${encodeURIComponent(prefix)}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { objects: { key: string }[] }).objects.map((o) => o.key).sort();
    };
    expect(await list("r/")).toEqual(["r/app-1.3.zip", "r/app-1.4.zip"]);
    expect(await list("builds/")).toEqual(Object.keys(OLD_BUCKET_OBJECTS).sort());
    // stats --detailed --json: one JSON document with exact figures for every object stored above.
    const stats = JSON.parse(commandMatching(runs, /glider stats /).stdout);
    const stored = 1 + 2 + 2 + Object.keys(OLD_BUCKET_OBJECTS).length; // releases/, r/, site/, builds/
    const totalBytes = [CLI_FILES["app-1.2.zip"], CLI_FILES["dist/app-1.3.zip"], CLI_FILES["dist/app-1.4.zip"]]
      .concat([CLI_FILES["site/index.html"], CLI_FILES["site/css/site.css"], ...Object.values(OLD_BUCKET_OBJECTS)])
      .reduce((sum, b) => sum + b.length, 0);
    expect(stats).toMatchObject({
      bucket: "bucket",
      mode: "detailed",
      object_count: stored,
      total_size: totalBytes,
      original_size_exact: true,
      estimated_objects: 0,
    });
    // Similar releases became deltas: the store holds less than the originals.
    expect(stats.compressed_size).toBeLessThan(totalBytes);
  });

  it("the Send section's S3 variant: the README's presigned `curl -X PUT … \"$URL\"` stores the payload", async () => {
    const span = example(PRESIGNED_PUT);
    const s3 = await startS3rver();
    const store = createS3StoreFor(s3);
    const adminKey = serverEnvOf(examples).SEND_ADMIN_API_KEY;
    const app = await buildTestApp({ SEND_ADMIN_API_KEY: adminKey }, { store });
    try {
      const s3Base = await listen(app);
      const call = async (path: string, init: RequestInit = {}) => {
        const res = await fetch(`${s3Base}${path}`, init);
        expect(res.status, `${init.method ?? "GET"} ${path}`).toBeLessThan(300);
        return res;
      };
      const json = { "content-type": "application/json" };
      const { secret } = await (
        await call("/api/admin/tokens/create", {
          method: "POST",
          headers: { ...json, "x-admin-key": adminKey },
          body: JSON.stringify({ label: "alice" }),
        })
      ).json();
      const payload = bytes("secret.bin", 300_000);
      const sender = { authorization: `Bearer ${secret}` };
      const created = await (
        await call("/api/transfers/create", {
          method: "POST",
          headers: { ...json, ...sender },
          body: JSON.stringify({ size: payload.length, max_downloads: 1 }),
        })
      ).json();
      // As the README describes the create answer on S3.
      expect(created.upload).toMatchObject({
        mode: "presigned",
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
      });
      const cwd = await mkdtemp(join(work, "presigned-"));
      await writeFile(join(cwd, "secret.bin"), payload);
      const runs = expectShellSucceeded(
        span,
        await runShell(span, { base: s3Base, cwd, env: { URL: created.upload.url } }),
      );
      expect(runs[0].statuses).toEqual([200]);
      // "then complete; a recipient POSTs create-presign-url and GETs the returned URL".
      const id = created.transfer.transfer_id;
      await call(`/api/transfers/id/${id}/upload/complete`, { method: "POST", headers: sender });
      const presigned = await (
        await call(`/api/transfers/id/${id}/download/create-presign-url`, { method: "POST" })
      ).json();
      const url = presigned.download.url;
      const download = await fetch(url);
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer())).toEqual(payload);
    } finally {
      await app.close();
      await store.close();
      await s3.stop();
    }
  });
});
