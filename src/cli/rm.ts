import { toLogical } from "../services/deltaglider/keys.js";
import { GliderError } from "../services/errors.js";
import type { Command } from "./context.js";
import { usageError } from "./errors.js";
import { folderPrefix, parseS3Url, s3Url } from "./s3-url.js";

/**
 * `rm s3://BUCKET/KEY` deletes one logical object (its file and/or `.delta`); `rm -r s3://BUCKET/PREFIX` deletes
 * the key itself if it exists and everything below `PREFIX/`. References nothing needs any more go with them.
 */
export const rm: Command = async (ctx, args) => {
  if (args.length !== 1) throw usageError("rm takes one s3://BUCKET/KEY argument");
  const { bucket, key } = parseS3Url(args[0]);
  const { deltaglider } = ctx.services;
  const deleted: string[] = [];
  if (!ctx.options.recursive) {
    if (key === "") throw usageError(`${s3Url(bucket)} names the whole bucket: use rm -r`);
    deleted.push(...(await deltaglider.deleteObject(bucket, key, ctx.signal)).deleted);
  } else {
    if (key !== "" && !key.endsWith("/")) {
      // As DeltaGlider's `rm -r`: the exact key goes too, then the folder below it.
      try {
        deleted.push(...(await deltaglider.deleteObject(bucket, key, ctx.signal)).deleted);
      } catch (error) {
        if (!(error instanceof GliderError && error.code === "key_not_found")) throw error;
      }
    }
    deleted.push(...(await deltaglider.deletePrefix(bucket, folderPrefix(key), ctx.signal)).deleted);
  }
  const logical = [...new Set(deleted.flatMap((k) => toLogical(k)?.key ?? []))];
  if (ctx.options.json) ctx.printJson({ deleted: logical, physical_keys: deleted });
  else for (const k of logical) ctx.print(`delete: ${s3Url(bucket, k)}`);
  return 0;
};
