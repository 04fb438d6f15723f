import { scanBucket } from "../services/savings/compute.js";
import type { Command } from "./context.js";
import { usageError } from "./errors.js";
import { createProgress, formatBytes } from "./progress.js";
import { parseS3Url } from "./s3-url.js";

/** `stats [--json] s3://BUCKET`: logical object count, original and stored bytes, savings (one LIST pass plus a HEAD per delta). */
export const stats: Command = async (ctx, args) => {
  if (args.length !== 1) throw usageError("stats takes one s3://BUCKET argument");
  const { bucket, key } = parseS3Url(args[0]);
  if (key !== "") throw usageError("stats covers a whole bucket: pass s3://BUCKET");
  const progress = createProgress({ label: `scanning ${bucket}` });
  let figures: Awaited<ReturnType<typeof scanBucket>>;
  try {
    figures = await scanBucket(ctx.services.deltaglider.catalogue, bucket, {
      signal: ctx.signal,
      onProgress: (p) => progress.setItems(p.scannedObjects),
    });
  } finally {
    progress.end();
  }
  if (ctx.options.json) {
    ctx.printJson({
      object_count: figures.objectCount,
      original_bytes: figures.originalBytes,
      stored_bytes: figures.storedBytes,
      savings_pct: figures.savingsPct,
    });
  } else {
    ctx.print(`Objects:        ${figures.objectCount}`);
    ctx.print(`Original size:  ${figures.originalBytes} bytes (${formatBytes(figures.originalBytes)})`);
    ctx.print(`Stored size:    ${figures.storedBytes} bytes (${formatBytes(figures.storedBytes)})`);
    ctx.print(`Savings:        ${figures.savingsPct.toFixed(2)}%`);
  }
  return 0;
};
