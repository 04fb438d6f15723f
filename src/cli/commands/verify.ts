import { verifyObject } from "../../services/bucket-ops/index.js";
import { usageError } from "../errors.js";
import type { Verb } from "../runtime.js";
import { parseS3Url } from "../s3-url.js";

/** `verify s3://BUCKET/KEY`: the DeltaGlider CLI's JSON answer (always JSON); exit 1 when not valid. */
export const run: Verb = async (ctx, args) => {
  const { bucket, key } = parseS3Url(args[0]);
  if (key === "" || key.endsWith("/")) throw usageError(`verify needs an object: s3://BUCKET/KEY, got "${args[0]}"`);
  const dg = await ctx.services.deltaglider();
  const result = await verifyObject(dg, bucket, key, ctx.signal);
  ctx.printJson(result);
  return result.valid ? 0 : 1;
};
