/**
 * Vitest global setup: one Ceph RADOS Gateway for the whole run (≈3 s to start), described to the test workers
 * through the GLIDER_TEST_RGW_* environment variables; each test then takes a fresh RGW tenant of its own
 * (test/helpers/rgw.ts). When the gateway cannot start the run fails here, loudly, with the daemons' logs.
 * Set GLIDER_TEST_RGW_ENDPOINT (and the other GLIDER_TEST_RGW_* variables) to use a gateway that is already running.
 */
import { RGW_ENV, type RgwServer, startRgw } from "./rgw.js";

let server: RgwServer | undefined;

export async function setup(): Promise<void> {
  if (process.env[RGW_ENV.endpoint]) return;
  server = await startRgw();
  process.env[RGW_ENV.endpoint] = server.endpoint;
  process.env[RGW_ENV.accessKeyId] = server.credentials.accessKeyId;
  process.env[RGW_ENV.secretAccessKey] = server.credentials.secretAccessKey;
  process.env[RGW_ENV.dir] = server.dir;
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}
