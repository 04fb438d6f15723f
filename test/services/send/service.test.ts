import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { GliderError } from "../../../src/services/errors.js";
import { createSendServices, type SendServices } from "../../../src/services/send/index.js";
import { limitBytes, meterDownload } from "../../../src/services/send/transfers/streams.js";
import { readAll } from "../../../src/services/storage/body.js";
import { createFsStore } from "../../../src/services/storage/fs-store.js";
import { createMemoryStore } from "../../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";

const logger = pino({ level: "silent" });
const config = loadConfig({ SEND_SWEEP_INTERVAL_MS: "0", SEND_ADMIN_API_KEY: "k".repeat(16) }).send;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return error instanceof GliderError ? error.code : String(error);
  }
}

/** A sender on `send` with one completed transfer of `payload`. */
async function completedTransfer(send: SendServices, payload: Buffer, maxDownloads: number) {
  const { secret } = await send.tokens.create({ label: "t" });
  const sender = await send.tokens.authenticate(secret);
  const { transfer } = await send.transfers.create(sender, { size: payload.length, maxDownloads });
  await send.transfers.uploadBytes(sender, transfer.id, Readable.from([payload]));
  await send.transfers.completeUpload(sender, transfer.id);
  return transfer.id;
}

async function tryDownload(send: SendServices, id: string): Promise<string> {
  try {
    const download = await send.transfers.openDownload(id);
    await readAll(download.body);
    return "ok";
  } catch (error) {
    return error instanceof GliderError ? error.code : String(error);
  }
}

describe.each([
  ["memory", async () => ({ stores: [createMemoryStore()], cleanup: async () => undefined })],
  [
    "fs (two store instances on one folder, as two processes would have)",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "glider-send-2x-"));
      return {
        stores: [createFsStore(dir), createFsStore(dir)],
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
])("two Send instances sharing one %s store", (_name, setup) => {
  let a: SendServices;
  let b: SendServices;
  let cleanup: () => Promise<unknown>;
  beforeAll(async () => {
    const built = await setup();
    const [storeA, storeB = storeA] = built.stores as ObjectStore[];
    cleanup = built.cleanup;
    a = createSendServices(config, storeA, logger);
    b = createSendServices(config, storeB, logger);
  });
  afterAll(async () => {
    await a.transfers.close();
    await b.transfers.close();
    await cleanup();
  });

  it("hold max_downloads across instances: the per-process locks differ, the slot claims do not", async () => {
    const payload = randomBytes(100_000);
    const id = await completedTransfer(a, payload, 2);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => tryDownload(i % 2 ? a : b, id)));
    expect(results.filter((r) => r === "ok")).toHaveLength(2);
    expect(results.filter((r) => r !== "ok").every((r) => r === "conflict" || r === "transfer_exhausted")).toBe(true);
    await a.transfers.close();
    await b.transfers.close();
    expect(await codeOf(a.transfers.status(id))).toBe("transfer_exhausted");
    expect(await codeOf(b.transfers.openDownload(id))).toBe("transfer_exhausted");
  });
});

describe("start-up", () => {
  it("creates nothing until start() (the CLI builds the same services), then the system bucket", async () => {
    const store = createMemoryStore();
    const send = createSendServices({ ...config, sweepIntervalMs: 10 }, store, logger);
    expect(await store.bucketExists(config.systemBucket)).toBe(false);
    await send.transfers.start();
    await send.transfers.start();
    expect(await store.bucketExists(config.systemBucket)).toBe(true);
    await send.transfers.close();
  });
});

describe("transfer service rules", () => {
  let send: SendServices;
  let now = Date.UTC(2026, 0, 1);
  beforeAll(() => {
    send = createSendServices(config, createMemoryStore(), logger, () => now);
  });
  afterAll(() => send.transfers.close());

  it("validates ids and inputs without HTTP", async () => {
    const { secret } = await send.tokens.create({ label: "t" });
    const sender = await send.tokens.authenticate(secret);
    expect(await codeOf(send.transfers.status("short"))).toBe("invalid_request");
    expect(await codeOf(send.transfers.status("A".repeat(22)))).toBe("transfer_not_found");
    expect(await codeOf(send.transfers.create(sender, { size: 0 }))).toBe("invalid_request");
    expect(await codeOf(send.transfers.create(sender, { size: 10, maxDownloads: 1001 }))).toBe("invalid_request");
    expect(await codeOf(send.transfers.create(sender, { size: 10, expiresInSeconds: 31 * 86_400 }))).toBe(
      "invalid_request",
    );
    expect(await codeOf(send.transfers.create(sender, { size: 10, deleteAuthHash: "abc" }))).toBe("invalid_request");
    expect(await codeOf(send.transfers.create(sender, { size: config.maxBytes + 1 }))).toBe("payload_too_large");
    expect(await codeOf(send.tokens.authenticate(undefined))).toBe("unauthorized");
    expect(await codeOf(send.tokens.authenticate(`${secret.slice(0, -1)}x`))).toBe("unauthorized");
  });

  it("expires by the injected clock and records it", async () => {
    const id = await completedTransfer(send, randomBytes(10), 1);
    const view = await send.transfers.status(id);
    now = view.expiresAt.getTime();
    expect(await codeOf(send.transfers.status(id))).toBe("transfer_expired");
    const report = await send.transfers.sweep();
    expect(report.expired).toBeGreaterThanOrEqual(1);
    const trail = await send.transfers.auditTrail(id);
    expect(trail.filter((r) => r.kind === "action").map((r) => (r.kind === "action" ? r.action : ""))).toEqual(
      expect.arrayContaining(["transfer.expired", "payload.swept"]),
    );
  });

  it("verifies the admin key in constant time and refuses when none is configured", () => {
    expect(() => send.tokens.verifyAdminKey("k".repeat(16))).not.toThrow();
    expect(() => send.tokens.verifyAdminKey("k".repeat(15))).toThrow(GliderError);
    expect(() => send.tokens.verifyAdminKey(undefined)).toThrow(/admin key/);
    const off = createSendServices({ ...config, adminApiKey: undefined }, createMemoryStore(), logger);
    expect(() => off.tokens.verifyAdminKey("anything")).toThrow(/disabled/);
  });
});

describe("payload streams", () => {
  it("limitBytes fails on the first byte past the limit without destroying the source", async () => {
    const source = new PassThrough();
    const limited = limitBytes(source, 10);
    source.write(Buffer.alloc(6));
    source.write(Buffer.alloc(5));
    expect(await codeOf(readAll(limited.body))).toBe("payload_too_large");
    expect(limited.exceeded()).toBe(true);
    expect(limited.received()).toBe(11);
    expect(source.destroyed).toBe(false);
  });

  it("limitBytes passes exactly the limit and reports a client that went away", async () => {
    const exact = limitBytes(Readable.from([Buffer.alloc(4), Buffer.alloc(6)]), 10);
    expect((await readAll(exact.body)).length).toBe(10);
    const source = new PassThrough();
    const cut = limitBytes(source, 100);
    source.write(Buffer.alloc(3));
    setImmediate(() => source.destroy());
    expect(await codeOf(readAll(cut.body))).toBe("invalid_request");
    expect(cut.aborted()).toBe(true);
  });

  it("meterDownload reports the end once, or the abort once, never both", async () => {
    const calls: string[] = [];
    const hooks = {
      onEnd: async () => void calls.push("end"),
      onAbort: async () => void calls.push("abort"),
      onHookError: () => calls.push("error"),
    };
    const done = meterDownload(Readable.from([Buffer.alloc(200_000)]), hooks);
    expect((await readAll(done)).length).toBe(200_000);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(["end"]);

    calls.length = 0;
    const source = Readable.from([Buffer.alloc(500_000)]);
    const aborted = meterDownload(source, hooks);
    aborted.once("data", () => aborted.destroy());
    await new Promise((r) => aborted.once("close", r));
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(["abort"]);
    expect(source.destroyed).toBe(true);
  });
});
