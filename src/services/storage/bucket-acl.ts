import { GliderError } from "../errors.js";
import type { ObjectStore } from "./object-store.js";
import type { S3StoreOptions } from "./s3-store.js";
import { errorName } from "./sdk-errors.js";

/** A bucket ACL in the shape `aws s3api get-bucket-acl` prints. */
export interface BucketAcl {
  Owner: { DisplayName?: string; ID: string };
  Grants: { Grantee: Record<string, string>; Permission: string }[];
}

export const CANNED_ACLS = ["private", "public-read", "public-read-write", "authenticated-read"] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

export interface PutBucketAclInput {
  acl?: CannedAcl;
  grantFullControl?: string;
  grantRead?: string;
  grantReadAcp?: string;
  grantWrite?: string;
  grantWriteAcp?: string;
  accessControlPolicy?: BucketAcl;
}

export interface BucketAclApi {
  get(bucket: string, signal?: AbortSignal): Promise<BucketAcl>;
  put(bucket: string, input: PutBucketAclInput, signal?: AbortSignal): Promise<void>;
}

const LOCAL_OWNER = { DisplayName: "glider", ID: "glider-local-owner" };

/**
 * Bucket ACLs, kept beside the object store contract (only the command line needs them). S3: the SDK's
 * Get/PutBucketAcl. Filesystem and memory stores have one owner and no other principal, so every bucket is private:
 * `get` answers the owner's FULL_CONTROL grant and `put` accepts only what keeps it that way.
 */
export async function createBucketAcl(
  store: ObjectStore,
  s3?: S3StoreOptions & { credentials?: { accessKeyId: string; secretAccessKey: string } },
): Promise<BucketAclApi> {
  async function assertBucket(bucket: string, signal?: AbortSignal) {
    if (!(await store.bucketExists(bucket, signal))) {
      throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
    }
  }
  if (store.kind !== "s3" || !s3) {
    return {
      async get(bucket, signal) {
        await assertBucket(bucket, signal);
        return {
          Owner: LOCAL_OWNER,
          Grants: [{ Grantee: { ...LOCAL_OWNER, Type: "CanonicalUser" }, Permission: "FULL_CONTROL" }],
        };
      },
      async put(bucket, input, signal) {
        await assertBucket(bucket, signal);
        const grants = [input.grantRead, input.grantReadAcp, input.grantWrite, input.grantWriteAcp];
        const policyGrants = input.accessControlPolicy?.Grants ?? [];
        const onlyOwner = policyGrants.every((g) => g.Grantee.ID === LOCAL_OWNER.ID);
        if ((input.acl && input.acl !== "private") || grants.some((g) => g !== undefined) || !onlyOwner) {
          throw new GliderError(
            "unsupported",
            `the ${store.kind} store keeps every bucket private: only --acl private (or the owner's own grants) applies`,
            { bucket },
          );
        }
      },
    };
  }
  const sdk = await import("@aws-sdk/client-s3");
  const client = new sdk.S3Client({
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.credentials ? { credentials: s3.credentials } : {}),
  });
  function mapError(error: unknown, bucket: string): never {
    const name = errorName(error);
    if (name === "NoSuchBucket") {
      throw new GliderError("bucket_not_found", `bucket "${bucket}" does not exist`, { bucket });
    }
    if (name === "AccessDenied") throw new GliderError("forbidden", `access denied to the ACL of "${bucket}"`);
    if (name === "NotImplemented") {
      throw new GliderError("unsupported", `this S3 server does not implement bucket ACLs (NotImplemented)`, {
        bucket,
      });
    }
    if (name === "AbortError") throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new GliderError(
      "sdk_error",
      `S3 request failed: ${name || "error"}: ${message}`,
      { bucket },
      { cause: error },
    );
  }
  return {
    async get(bucket, signal) {
      try {
        const out = await client.send(new sdk.GetBucketAclCommand({ Bucket: bucket }), { abortSignal: signal });
        return {
          Owner: { DisplayName: out.Owner?.DisplayName, ID: out.Owner?.ID ?? "" },
          Grants: (out.Grants ?? []).map((g) => ({
            Grantee: Object.fromEntries(
              Object.entries(g.Grantee ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
            ),
            Permission: g.Permission ?? "",
          })),
        };
      } catch (error) {
        mapError(error, bucket);
      }
    },
    async put(bucket, input, signal) {
      try {
        await client.send(
          new sdk.PutBucketAclCommand({
            Bucket: bucket,
            ACL: input.acl,
            GrantFullControl: input.grantFullControl,
            GrantRead: input.grantRead,
            GrantReadACP: input.grantReadAcp,
            GrantWrite: input.grantWrite,
            GrantWriteACP: input.grantWriteAcp,
            AccessControlPolicy: input.accessControlPolicy as never,
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        mapError(error, bucket);
      }
    },
  };
}
