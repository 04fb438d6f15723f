import { createBucketAcl } from "../../services/storage/index.js";
import type { Verb } from "../runtime.js";
import { parseBucketArg } from "../s3-url.js";

/** `get-bucket-acl BUCKET`: the ACL as `aws s3api get-bucket-acl` prints it (always JSON). */
export const run: Verb = async (ctx, args) => {
  const bucket = parseBucketArg(args[0]);
  const storage = ctx.config.storage;
  const acl = await createBucketAcl(ctx.services.store, storage.kind === "s3" ? storage : undefined);
  ctx.printJson(await acl.get(bucket, ctx.signal));
  return 0;
};
