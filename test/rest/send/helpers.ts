import { createHash } from "node:crypto";
import type { FastifyInstance, InjectOptions } from "fastify";
import { expect, vi } from "vitest";
import { DEFAULT_SYSTEM_BUCKET } from "../../../src/config.js";
import type { ServiceOverrides } from "../../../src/services/index.js";
import type { ObjectStore } from "../../../src/services/storage/object-store.js";
import { buildTestApp } from "../../helpers/app.js";

export const ADMIN_KEY = "test-admin-key-0123456789abcdef";
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A settable clock for the Send services (epoch ms). */
export interface Clock {
  now: number;
  advance(ms: number): void;
}

export function createClock(start = T0): Clock {
  return {
    now: start,
    advance(ms) {
      this.now += ms;
    },
  };
}

export interface SendApp {
  app: FastifyInstance;
  clock: Clock;
}

/** A built app with the admin key set, the background sweeper off (tests call sweep) and a settable clock. */
export async function buildSendApp(
  env: Record<string, string> = {},
  overrides: ServiceOverrides = {},
): Promise<SendApp> {
  const clock = createClock();
  const app = await buildTestApp(
    { SEND_ADMIN_API_KEY: ADMIN_KEY, SEND_SWEEP_INTERVAL_MS: "0", ...env },
    { now: () => clock.now, ...overrides },
  );
  return { app, clock };
}

export const admin = { "x-admin-key": ADMIN_KEY };
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

export async function injectJson(app: FastifyInstance, options: InjectOptions) {
  const res = await app.inject(options);
  return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
}

/** Issues a sender token through the admin API; returns the bearer secret and the token id. */
export async function issueToken(
  app: FastifyInstance,
  body: Record<string, unknown> = { label: "test sender" },
): Promise<{ secret: string; id: string }> {
  const res = await injectJson(app, { method: "POST", url: "/api/admin/tokens/create", headers: admin, payload: body });
  expect(res.status).toBe(201);
  return { secret: res.body.secret, id: res.body.token.token_id };
}

export async function createTransfer(app: FastifyInstance, secret: string, body: Record<string, unknown>) {
  return injectJson(app, { method: "POST", url: "/api/transfers/create", headers: bearer(secret), payload: body });
}

export async function uploadBytes(app: FastifyInstance, secret: string, id: string, payload: Buffer) {
  return injectJson(app, {
    method: "POST",
    url: `/api/transfers/id/${id}/payload/upload-bytes`,
    headers: { ...bearer(secret), "content-type": "application/octet-stream" },
    payload,
  });
}

export async function completeUpload(app: FastifyInstance, secret: string, id: string) {
  return injectJson(app, { method: "POST", url: `/api/transfers/id/${id}/upload/complete`, headers: bearer(secret) });
}

/** Creates, uploads and completes a transfer on the byte path; returns its id. */
export async function readyTransfer(
  app: FastifyInstance,
  secret: string,
  payload: Buffer,
  options: Record<string, unknown> = {},
): Promise<string> {
  const created = await createTransfer(app, secret, { size: payload.length, ...options });
  expect(created.status).toBe(201);
  const id = created.body.transfer.transfer_id;
  expect((await uploadBytes(app, secret, id, payload)).status).toBe(200);
  expect((await completeUpload(app, secret, id)).status).toBe(200);
  return id;
}

/** Every key in the system bucket, read straight from the store (all pages). */
export async function systemKeys(store: ObjectStore, bucket = DEFAULT_SYSTEM_BUCKET): Promise<string[]> {
  const keys: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await store.listObjects({ bucket, continuationToken });
    keys.push(...page.objects.map((o) => o.key));
    continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
  } while (continuationToken);
  return keys;
}

/**
 * Retries `check` until it passes (vitest's `vi.waitFor`, failing with the check's own assertion). Only for what has
 * no event to wait on: the bookkeeping after a client hangs up and the sweeper's timer both run inside the server.
 */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  await vi.waitFor(check, { timeout: timeoutMs, interval: 20 });
}
