import { createInterface } from "node:readline";
import { copyLogical, planMigration } from "../../services/bucket-ops/index.js";
import { deltaSpaceOf, isDeltaCandidate } from "../../services/deltaglider/index.js";
import { usageError } from "../errors.js";
import { createSpaceGates, forEachConcurrent } from "../pool.js";
import { formatBytes, printError } from "../progress.js";
import { type CommandContext, createReport, type Verb } from "../runtime.js";
import { isS3Url, parseS3Url, s3Url } from "../s3-url.js";
import { describeUpload, noDelta, pathFilter, uploadOperation } from "./transfer.js";

/** One answer line from stdin (a terminal or a pipe); undefined at end of input. */
async function ask(question: string): Promise<string | undefined> {
  printError(question);
  const lines = createInterface({ input: process.stdin });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
  }
}

async function confirmed(ctx: CommandContext): Promise<boolean | undefined> {
  if (ctx.options.yes === true || ctx.quiet || ctx.json) return true;
  const answer = await ask("Do you want to proceed with the migration? [y/N]:");
  if (answer === undefined) return undefined;
  return /^y(es)?$/i.test(answer.trim());
}

/**
 * `migrate s3://SRC[/PREFIX] s3://DEST[/PREFIX]`: existing objects (plain S3, or DeltaGlider from elsewhere) into
 * the DeltaGlider layout. Objects already at the destination are skipped, so an interrupted migration resumes where
 * it stopped; each object is written whole or not at all. Asks before starting unless -y (or -q / --json).
 */
export const run: Verb = async (ctx, args) => {
  const [source, dest] = args;
  if (!isS3Url(source) || !isS3Url(dest)) throw usageError("migrate needs two s3:// locations: SOURCE and DEST");
  const from = parseS3Url(source);
  const to = parseS3Url(dest);
  const dryRun = ctx.options.dryRun === true;
  const dg = await ctx.services.deltaglider();
  const plan = await planMigration(ctx.services.store, dg, {
    source: from,
    dest: to,
    filter: pathFilter(ctx),
    preservePrefix: ctx.options.preservePrefix !== false,
    signal: ctx.signal,
  });
  const total = plan.items.reduce((n, i) => n + i.bytes, 0);
  const report = createReport(ctx, "migrate", dryRun);
  report.skipped(plan.alreadyMigrated);
  ctx.note(`Migrating from ${s3Url(from.bucket, plan.sourcePrefix)} to ${s3Url(to.bucket, plan.destPrefix)}`);
  if (plan.items.length === 0) {
    if (!ctx.quiet) ctx.line("All files are already migrated. Nothing to do.");
    return report.finish();
  }
  ctx.note(`Files to migrate: ${plan.items.length} (${formatBytes(total)}); already migrated: ${plan.alreadyMigrated}`);
  if (dryRun) {
    for (const item of plan.items) {
      report.done(
        {
          action: "copy",
          source: s3Url(from.bucket, item.sourceKey),
          destination: s3Url(to.bucket, item.destKey),
          bytes: item.bytes,
        },
        `(dryrun) migrate: ${s3Url(from.bucket, item.sourceKey)} to ${s3Url(to.bucket, item.destKey)}`,
      );
    }
    return report.finish();
  }
  const ok = await confirmed(ctx);
  if (ok === undefined) {
    printError("migrate: no answer on stdin: pass --yes to migrate without asking");
    return 1;
  }
  if (!ok) {
    ctx.line("Migration cancelled.");
    return 0;
  }
  const progress = ctx.progress(`migrate ${s3Url(to.bucket, plan.destPrefix)}`, {
    bytes: total,
    items: plan.items.length,
  });
  const gated = createSpaceGates();
  try {
    await forEachConcurrent(
      plan.items,
      ctx.jobs,
      async (item) => {
        const copy = () =>
          copyLogical(
            ctx.services.store,
            dg,
            { bucket: from.bucket, key: item.sourceKey },
            { bucket: to.bucket, key: item.destKey },
            { noDelta: noDelta(ctx), signal: ctx.signal, onBytes: (n) => progress.bytes(n) },
          );
        const r =
          isDeltaCandidate(item.destKey) && !noDelta(ctx)
            ? await gated(deltaSpaceOf(item.destKey), copy)
            : await copy();
        progress.item();
        report.done(
          {
            ...uploadOperation(s3Url(from.bucket, item.sourceKey), to.bucket, r),
            action: "copy",
            server_side: r.serverSide,
          },
          `migrate: ${s3Url(from.bucket, item.sourceKey)} to ${s3Url(to.bucket, item.destKey)} (${describeUpload(r)})`,
        );
      },
      (item, error) => report.failed(s3Url(from.bucket, item.sourceKey), error),
      ctx.signal,
    );
  } finally {
    progress.end();
  }
  const status = report.finish();
  if (!ctx.quiet) {
    ctx.line(
      `Migration summary: ${report.report.summary.succeeded} migrated, ${report.report.summary.failed} failed, ${plan.alreadyMigrated} already there`,
    );
  }
  return status;
};
