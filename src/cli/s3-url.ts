import { GliderError } from "../services/errors.js";
import { assertValidBucketName } from "../services/storage/index.js";
import { usageError } from "./errors.js";

/** A bucket and a key (or key prefix) named by an `s3://BUCKET[/KEY]` URL. */
export interface S3Location {
  bucket: string;
  /** Everything after the first `/` following the bucket, verbatim ("" for the bucket itself). */
  key: string;
}

export function isS3Url(arg: string): boolean {
  return arg.startsWith("s3://");
}

/** `s3://BUCKET[/KEY]` → bucket and key; anything else is a usage error. */
export function parseS3Url(url: string): S3Location {
  if (!isS3Url(url)) throw usageError(`expected s3://BUCKET[/KEY], got "${url}"`);
  const rest = url.slice("s3://".length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? "" : rest.slice(slash + 1);
  if (bucket === "") throw usageError(`"${url}" names no bucket`);
  try {
    assertValidBucketName(bucket);
  } catch (error) {
    if (error instanceof GliderError) throw usageError(error.message);
    throw error;
  }
  return { bucket, key };
}

export function s3Url(bucket: string, key = ""): string {
  return `s3://${bucket}/${key}`;
}

/** `BUCKET`, `s3://BUCKET` or `s3://BUCKET/` (as the DeltaGlider CLI accepts for stats, purge and the ACL verbs). */
export function parseBucketArg(arg: string): string {
  if (isS3Url(arg)) {
    const { bucket, key } = parseS3Url(arg);
    if (key !== "") throw usageError(`expected a bucket, got "${arg}" (no key or prefix)`);
    return bucket;
  }
  return parseS3Url(`s3://${arg}`).bucket;
}

export { folderPrefix } from "../services/bucket-ops/index.js";
