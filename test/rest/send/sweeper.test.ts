import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  admin,
  buildSendApp,
  createTransfer,
  eventually,
  injectJson,
  issueToken,
  readyTransfer,
  type SendApp,
  systemKeys,
  uploadBytes,
} from "./helpers.js";

/** Whether any file under `dir` holds `needle` (the bytes themselves, not just a record pointing at them). */
async function anyFileContains(dir: string, needle: Buffer): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const data = await readFile(join(entry.parentPath, entry.name)).catch(() => Buffer.alloc(0));
    if (data.includes(needle)) return true;
  }
  return false;
}

describe("the sweeper", () => {
  let send: SendApp;
  let dataDir: string | undefined;
  afterEach(async () => {
    await send.app.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it("runs on its interval and removes expired payloads from the disk (fs store)", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "glider-send-sweep-"));
    send = await buildSendApp({ STORAGE: "fs", DATA_DIR: dataDir, SEND_SWEEP_INTERVAL_MS: "20" });
    const { app, clock } = send;
    const { secret } = await issueToken(app);
    const payload = randomBytes(100_000);
    const id = await readyTransfer(app, secret, payload, { expires_in_seconds: 3600 });
    const needle = payload.subarray(5000, 5064);
    expect(await anyFileContains(dataDir, needle)).toBe(true);

    clock.advance(3_600_000);
    await eventually(async () => {
      expect(await systemKeys(app.services.store)).not.toContain(`transfers/${id}/payload`);
    });
    expect(await anyFileContains(dataDir, needle)).toBe(false);

    const trail = await injectJson(app, {
      method: "GET",
      url: `/api/admin/audit/transfers/id/${id}/all`,
      headers: admin,
    });
    const actions = trail.body.records.filter((r: { kind: string }) => r.kind === "action");
    expect(actions.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining(["transfer.expired", "payload.swept"]),
    );
    expect(actions.find((a: { action: string }) => a.action === "payload.swept").actor).toBe("system");
    const stats = await injectJson(app, { method: "GET", url: "/api/admin/stats/overview", headers: admin });
    expect(stats.body.transfers).toMatchObject({ by_status: { expired: 1 }, bytes_stored: 0 });
  });

  it("removes the bytes of expired uploads that never completed, and leaves live ones alone", async () => {
    send = await buildSendApp();
    const { app, clock } = send;
    const { secret } = await issueToken(app);
    const stale = (await createTransfer(app, secret, { size: 64, expires_in_seconds: 60 })).body.transfer.transfer_id;
    expect((await uploadBytes(app, secret, stale, randomBytes(64))).status).toBe(200);
    const live = await readyTransfer(app, secret, randomBytes(64), { expires_in_seconds: 3600 });

    clock.advance(61_000);
    const report = await app.services.transfers.sweep();
    expect(report).toMatchObject({ scanned: 2, expired: 1, payloadsDeleted: 1 });
    const keys = await systemKeys(app.services.store);
    expect(keys).not.toContain(`transfers/${stale}/payload`);
    expect(keys).toContain(`transfers/${live}/payload`);
    // A second pass has nothing left to do.
    expect(await app.services.transfers.sweep()).toMatchObject({ expired: 0, payloadsDeleted: 0 });
  });
});
