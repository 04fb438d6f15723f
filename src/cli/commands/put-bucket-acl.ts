import { type BucketAcl, type CannedAcl, createBucketAcl } from "../../services/storage/index.js";
import { usageError } from "../errors.js";
import type { Verb } from "../runtime.js";
import { parseBucketArg } from "../s3-url.js";

/** `put-bucket-acl BUCKET --acl …|--grant-…|--access-control-policy JSON`. */
export const run: Verb = async (ctx, args) => {
  const bucket = parseBucketArg(args[0]);
  const o = ctx.options;
  let policy: BucketAcl | undefined;
  if (o.accessControlPolicy !== undefined) {
    try {
      policy = JSON.parse(o.accessControlPolicy as string) as BucketAcl;
    } catch (error) {
      throw usageError(`--access-control-policy is not JSON: ${(error as Error).message}`);
    }
  }
  const input = {
    acl: o.acl as CannedAcl | undefined,
    grantFullControl: o.grantFullControl as string | undefined,
    grantRead: o.grantRead as string | undefined,
    grantReadAcp: o.grantReadAcp as string | undefined,
    grantWrite: o.grantWrite as string | undefined,
    grantWriteAcp: o.grantWriteAcp as string | undefined,
    accessControlPolicy: policy,
  };
  if (Object.values(input).every((v) => v === undefined)) {
    throw usageError("put-bucket-acl needs --acl, a --grant-… option or --access-control-policy");
  }
  const storage = ctx.config.storage;
  const acl = await createBucketAcl(ctx.services.store, storage.kind === "s3" ? storage : undefined);
  await acl.put(bucket, input, ctx.signal);
  if (ctx.json) ctx.printJson({ bucket, updated: true });
  else ctx.line(`ACL updated for bucket: ${bucket}`);
  return 0;
};
