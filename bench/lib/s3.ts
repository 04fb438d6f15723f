import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, stat, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { mapWithConcurrency } from "../../src/services/concurrency.js";
import { startRgw } from "../../test/helpers/rgw.js";
import { type S3rverHandle, startS3rver } from "../../test/helpers/s3rver.js";
import { childPid } from "./rss.js";
import { createLeanPutClient } from "./s3-put.js";
import { now } from "./stats.js";

/** Which S3 server the benchmarks run against: `BENCH_S3=s3rver` (default) or `BENCH_S3=rgw` (Ceph RGW). */
export const BENCH_S3: "s3rver" | "rgw" = (() => {
  const value = process.env.BENCH_S3 ?? "s3rver";
  if (value !== "s3rver" && value !== "rgw") throw new Error(`BENCH_S3 must be s3rver or rgw (got "${value}")`);
  return value;
})();

export type S3Handle = S3rverHandle & {
  kind: "s3rver" | "rgw";
  /** The process serving S3 (for CPU figures), when known. */
  pid?: number;
};

/**
 * The benchmark's S3 server on 127.0.0.1: s3rver (patched, in its own process, a temp folder) or, with
 * BENCH_S3=rgw, a Ceph RADOS Gateway from test/helpers/rgw/start-rgw.sh. `stop()` removes its folder.
 */
export async function startS3(): Promise<S3Handle> {
  if (BENCH_S3 === "rgw") {
    const rgw = await startRgw();
    return {
      kind: "rgw",
      endpoint: rgw.endpoint,
      credentials: rgw.credentials,
      region: rgw.region,
      directory: rgw.dir,
      pid: rgw.pids.at(-1),
      stop: () => rgw.stop(),
    };
  }
  return { kind: "s3rver", ...(await startS3rver()) };
}

/** An SDK client configured like Glider's S3 store (no automatic CRC checksums, path style). */
export function s3Client(s3: S3Handle): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: s3.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Plain single-request PUT of a file (the SDK streams it). */
export async function putFile(client: S3Client, bucket: string, key: string, path: string): Promise<number> {
  const { size } = await stat(path);
  const started = now();
  await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(path), ContentLength: size }),
  );
  return now() - started;
}

/** Plain GET through the SDK: time to the first body byte and to the last, bytes read (the body is discarded). */
export async function getTimed(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<{ ttfbMs: number; totalMs: number; bytes: number }> {
  const started = now();
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  let ttfbMs = -1;
  let bytes = 0;
  for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
    if (ttfbMs < 0) ttfbMs = now() - started;
    bytes += chunk.length;
  }
  return { ttfbMs, totalMs: now() - started, bytes };
}

export async function downloadToFile(client: S3Client, bucket: string, key: string, path: string): Promise<void> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await pipeline(out.Body as NodeJS.ReadableStream, createWriteStream(path));
}

export async function headMetadata(client: S3Client, bucket: string, key: string): Promise<Record<string, string>> {
  return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
}

export async function copyObject(client: S3Client, bucket: string, from: string, to: string): Promise<void> {
  await client.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: to,
      CopySource: `${bucket}/${from.split("/").map(encodeURIComponent).join("/")}`,
      MetadataDirective: "COPY",
    }),
  );
}

/** Pages through a folder with ListObjectsV2 (1,000 per page, `/` delimiter): how many objects, how many pages. */
export async function listFolder(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ objects: number; pages: number }> {
  let objects = 0;
  let pages = 0;
  let token: string | undefined;
  do {
    const out = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: "/", ContinuationToken: token }),
    );
    objects += out.KeyCount ?? 0;
    pages++;
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return { objects, pages };
}

export interface RawObject {
  key: string;
  body: Uint8Array;
  /** User metadata without the `x-amz-meta-` prefix. */
  metadata?: Record<string, string>;
  modified?: Date;
}

/**
 * Writes objects straight into s3rver's folder, as its filesystem store lays them out (`<key>._S3rver_object`,
 * `.md5`, `._S3rver_metadata.json`; s3rver 3.7.1, see node_modules/s3rver/lib/stores/filesystem.js), with
 * `concurrency` objects in flight: 100,000 PUTs through s3rver's HTTP front end would take minutes. The bucket must
 * exist (create it through the API). `modified` becomes the file's mtime, which s3rver reports as Last-Modified.
 */
export async function writeRawObjects(
  s3: S3Handle,
  bucket: string,
  objects: Iterable<RawObject>,
  concurrency = 64,
): Promise<number> {
  if (s3.kind === "rgw") return putObjects(s3, bucket, objects, concurrency);
  const bucketDir = join(s3.directory, bucket);
  const folders = new Map<string, Promise<unknown>>();
  let count = 0;
  await mapWithConcurrency([...objects], concurrency, async (object) => {
    const base = join(bucketDir, object.key);
    const dir = dirname(base);
    let folder = folders.get(dir);
    if (!folder) {
      folder = mkdir(dir, { recursive: true });
      folders.set(dir, folder);
    }
    await folder;
    const objectPath = `${base}._S3rver_object`;
    const metadata: Record<string, string> = { "content-type": "application/octet-stream" };
    for (const [k, v] of Object.entries(object.metadata ?? {})) metadata[`x-amz-meta-${k.toLowerCase()}`] = v;
    await writeFile(objectPath, object.body);
    await writeFile(`${objectPath}.md5`, createHash("md5").update(object.body).digest("hex"));
    await writeFile(`${base}._S3rver_metadata.json`, JSON.stringify(metadata));
    if (object.modified) await utimes(objectPath, object.modified, object.modified);
    count++;
  });
  return count;
}

/**
 * The same objects through the S3 API (RGW has no folder to write into): PUTs with `concurrency` in flight. RGW
 * stamps Last-Modified itself, so `modified` is not kept (a modified_desc listing sorts by write order instead).
 * The requests are PutObject as the SDK sends it (same headers, metadata, signed payload), made by a lean signer:
 * through the SDK, the client took as much CPU as radosgw did per PUT (see s3-put.ts).
 */
async function putObjects(s3: S3Handle, bucket: string, objects: Iterable<RawObject>, concurrency: number) {
  const client = createLeanPutClient({ ...s3, sockets: concurrency });
  let count = 0;
  try {
    await mapWithConcurrency([...objects], concurrency, async (object) => {
      await client.put(bucket, object.key, object.body, object.metadata);
      count++;
    });
  } finally {
    client.close();
  }
  return count;
}

/** The S3 server's pid (for CPU figures): radosgw's, or the s3rver child's found by its folder on the command line. */
export function s3rverPid(s3: S3Handle): number | undefined {
  return s3.kind === "rgw" ? s3.pid : childPid("s3rver-child.cjs", s3.directory);
}
