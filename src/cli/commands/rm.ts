import { assertVisible, isFolderKey, removeObjects } from "../../services/bucket-ops/index.js";
import { usageError } from "../errors.js";
import { createReport, type Verb } from "../runtime.js";
import { parseS3Url, s3Url } from "../s3-url.js";

/**
 * `rm [-r] [--dryrun] [-q] s3://BUCKET/KEY|PREFIX`: one logical object (its file and/or `.delta`), or with -r the
 * exact key and everything below `PREFIX/`; references nothing needs any more go with them. Nothing found is not
 * an error (as with S3 and the DeltaGlider CLI).
 */
export const run: Verb = async (ctx, args) => {
  const { bucket, key } = parseS3Url(args[0]);
  const recursive = ctx.options.recursive === true;
  const dryRun = ctx.options.dryrun === true;
  assertVisible(bucket, ctx.services.hiddenBuckets);
  // The service's rule (a folder needs -r); the CLI reports it as a usage error (exit status 2).
  if (!recursive && isFolderKey(key)) {
    throw usageError(`${s3Url(bucket, key)} is a folder: use rm -r (--recursive)`);
  }
  const dg = await ctx.services.deltaglider();
  const result = await removeObjects(ctx.services.store, dg, bucket, key, {
    recursive,
    dryRun,
    hiddenBuckets: ctx.services.hiddenBuckets,
    signal: ctx.signal,
  });
  const report = createReport(ctx, "rm", dryRun);
  for (const logical of result.removed) {
    const url = s3Url(bucket, logical);
    report.done({ action: "delete", destination: url, bytes: 0 }, `${dryRun ? "(dryrun) " : ""}delete: ${url}`);
  }
  if (ctx.json) {
    ctx.printJson({ ...report.report, physical_keys: result.physicalKeys });
    return 0;
  }
  if (result.removed.length === 0) ctx.note(`delete: nothing found at ${s3Url(bucket, key)}`);
  return report.finish();
};
