import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions } from "fastify";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { testConfig } from "../../helpers/app.js";
import { ADMIN_KEY, createClock, sha256 } from "./helpers.js";

const CLIENT_IP = "203.0.113.77";
const SECRET = "hmac-secret-for-tests-0123456789";

interface Session {
  app: FastifyInstance;
  dataDir: string;
  logs: string[];
}

async function startSession(env: Record<string, string>): Promise<Session> {
  const dataDir = await mkdtemp(join(tmpdir(), "glider-send-anon-"));
  const logs: string[] = [];
  const logger = pino({ level: "trace" }, { write: (line: string) => void logs.push(line) });
  const clock = createClock();
  const app = await buildApp(
    testConfig({
      STORAGE: "fs",
      DATA_DIR: dataDir,
      LOG_LEVEL: "trace",
      SEND_ADMIN_API_KEY: ADMIN_KEY,
      SEND_SWEEP_INTERVAL_MS: "0",
      ...env,
    }),
    { logger, overrides: { now: () => clock.now } },
  );
  return { app, dataDir, logs };
}

/** Everything a client can do, from one distinctive address; returns the transfer id. */
async function runScriptedSession(app: FastifyInstance): Promise<string> {
  const from = (options: InjectOptions) =>
    app.inject({
      ...options,
      remoteAddress: CLIENT_IP,
      headers: { "user-agent": "TestBrowser/1.0", ...options.headers },
    });
  const adminHeaders = { "x-admin-key": ADMIN_KEY };
  const token = (
    await from({ method: "POST", url: "/api/admin/tokens/create", headers: adminHeaders, payload: { label: "t" } })
  ).json().secret;
  const auth = { authorization: `Bearer ${token}` };
  const payload = randomBytes(2048);
  const created = await from({
    method: "POST",
    url: "/api/transfers/create",
    headers: auth,
    payload: { size: payload.length, max_downloads: 2, delete_auth_hash: sha256("bye") },
  });
  expect(created.statusCode).toBe(201);
  const id = created.json().transfer.transfer_id;
  const t = `/api/transfers/id/${id}`;
  const steps: InjectOptions[] = [
    {
      method: "POST",
      url: `${t}/payload/upload-bytes`,
      headers: { ...auth, "content-type": "application/octet-stream" },
      payload,
    },
    { method: "POST", url: `${t}/upload/complete`, headers: auth },
    { method: "GET", url: `${t}/status` },
    { method: "POST", url: `${t}/download/create-presign-url` },
    { method: "GET", url: `${t}/payload/download-bytes` },
    { method: "POST", url: `${t}/events/add`, payload: { type: "viewed", data: { step: 1 } } },
    { method: "GET", url: `${t}/events/list` },
    { method: "GET", url: `${t}/actions/list` },
    { method: "GET", url: "/api/transfers/id/AAAAAAAAAAAAAAAAAAAAAA/status" },
    { method: "GET", url: "/api/transfers/id/bad/status" },
    { method: "POST", url: "/api/transfers/create", payload: { size: 1 } },
    { method: "GET", url: "/api/admin/tokens/list", headers: adminHeaders },
    { method: "GET", url: "/api/admin/stats/overview", headers: adminHeaders },
    { method: "GET", url: `/api/admin/audit/transfers/id/${id}/all`, headers: adminHeaders },
    { method: "POST", url: "/graphql", payload: { query: "{ health { status } }" } },
    { method: "GET", url: "/api/nope" },
    { method: "POST", url: `${t}/delete`, payload: { delete_auth: "bye" } },
  ];
  for (const step of steps) await from(step);
  await app.services.audit.flush();
  return id;
}

/**
 * Files (names and contents) under `dir` that mention `needle`. The last request's audit record may still be on its
 * way to the store (fastify runs onResponse after inject resolves): a temp file that vanishes mid-scan was just
 * committed under its final name, so the scan starts over and sees that instead.
 */
async function filesMentioning(dir: string, needle: string): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const hits: string[] = [];
      for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
        const path = join(entry.parentPath, entry.name);
        if (path.includes(needle)) hits.push(path);
        if (entry.isFile() && (await readFile(path)).includes(needle)) hits.push(path);
      }
      return hits;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 5) throw error;
    }
  }
}

describe("anonymised-IP mode", () => {
  let session: Session | undefined;
  afterEach(async () => {
    if (session) {
      await session.app.close();
      await rm(session.dataDir, { recursive: true, force: true });
    }
    session = undefined;
  });

  it("writes the client address nowhere: not in storage, not in logs", async () => {
    session = await startSession({ SEND_ANONYMISE_IPS: "true", SEND_IP_HASH_SECRET: SECRET });
    const id = await runScriptedSession(session.app);

    expect(await filesMentioning(session.dataDir, CLIENT_IP)).toEqual([]);
    const allLogs = session.logs.join("");
    expect(session.logs.length).toBeGreaterThan(20);
    expect(allLogs).not.toContain(CLIENT_IP);

    // Access-log lines carry the keyed hash instead, the same one the audit records hold.
    const access = session.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(access.length).toBeGreaterThan(10);
    const hashes = new Set(access.map((l) => l.ip));
    expect(hashes.size).toBe(1);
    const [hash] = hashes;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const trail = await session.app.services.transfers.auditTrail(id);
    const requests = trail.filter((r) => r.kind === "request");
    expect(requests.length).toBeGreaterThan(5);
    for (const record of requests) {
      expect(record).toMatchObject({ ip: hash, ipMode: "hmac" });
      expect(record.userAgentHash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("warns and uses a random key when no secret is configured", async () => {
    session = await startSession({ SEND_ANONYMISE_IPS: "true" });
    expect(session.logs.join("")).toContain("SEND_IP_HASH_SECRET is not set");
    await runScriptedSession(session.app);
    expect(await filesMentioning(session.dataDir, CLIENT_IP)).toEqual([]);
    expect(session.logs.join("")).not.toContain(CLIENT_IP);
  });

  it("(control) records the raw address when the mode is off, so the scan above would see it", async () => {
    session = await startSession({});
    const id = await runScriptedSession(session.app);
    expect((await filesMentioning(session.dataDir, CLIENT_IP)).some((f) => f.includes(`audit`))).toBe(true);
    expect(session.logs.join("")).toContain(CLIENT_IP);
    const trail = await session.app.services.transfers.auditTrail(id);
    expect(trail.find((r) => r.kind === "request")).toMatchObject({ ip: CLIENT_IP, ipMode: "raw" });
  });
});
