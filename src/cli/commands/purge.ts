import { purgeTemporary } from "../../services/bucket-ops/index.js";
import type { Verb } from "../runtime.js";
import { parseBucketArg } from "../s3-url.js";

/** `purge BUCKET [--dry-run] [--json]`: expired rehydrated copies under `.deltaglider/tmp/`. */
export const run: Verb = async (ctx, args) => {
  const bucket = parseBucketArg(args[0]);
  const dryRun = ctx.options.dryRun === true;
  const result = await purgeTemporary(ctx.services.store, bucket, { dryRun, signal: ctx.signal });
  if (ctx.json) ctx.printJson(result);
  else {
    ctx.line(`Purge ${dryRun ? "(dry run) " : ""}for bucket: ${bucket}`);
    ctx.line("=".repeat(60));
    ctx.line(`Temporary files:      ${result.scanned_count}`);
    ctx.line(`Expired files found:  ${result.expired_count}`);
    ctx.line(`Files deleted:        ${result.deleted_count}`);
    ctx.line(`Errors:               ${result.error_count}`);
    ctx.line(
      `Space ${dryRun ? "to free" : "freed"}:${dryRun ? "       " : "          "}${result.total_size_freed} bytes`,
    );
    for (const f of result.expired_files) ctx.line(`  ${f.key} (expired ${f.expires_at})`);
    for (const e of result.errors) ctx.line(`  error: ${e}`);
  }
  return result.error_count > 0 ? 1 : 0;
};
