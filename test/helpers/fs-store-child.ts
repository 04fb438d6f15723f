/**
 * A second process writing into a shared filesystem store (fs-shared-dir.test.ts): `<dataDir> <bucket> <key>`.
 * It starts a put, prints `inflight` once the first chunk is on disk in its temp folder, finishes the put when a
 * line arrives on stdin and prints `done <etag>`. Killing it at `inflight` leaves a dead process's temp folder.
 */
import { once } from "node:events";
import { createFsStore } from "../../src/services/storage/fs-store.js";
import { CHILD_BODY, inFlightBody } from "./fs-store-body.js";

const [dataDir, bucket, key] = process.argv.slice(2);
const store = createFsStore(dataDir);
await store.createBucket(bucket);
const release = once(process.stdin, "data");
const body = inFlightBody(CHILD_BODY, () => process.stdout.write("inflight\n"), release);
const { etag } = await store.putObject({ bucket, key, body });
await store.close();
process.stdout.write(`done ${etag}\n`);
process.stdin.destroy();
