/**
 * `glider`: a DeltaGlider-compatible command line over Glider's services, configured by the same environment as the
 * server. This entry point loads only the argument parser: each verb imports what it needs when it runs, so
 * `glider --version` and `glider --help` start in a few tens of milliseconds. Results go to stdout, progress, logs and
 * errors to stderr. Exit status: 0 done, 1 something failed (a summary says what), 2 a wrong command line.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { VERBS, type VerbName } from "./cli/verbs.js";

/** Set by the bundler (scripts/bundle-cli.mjs): the bundled CLI reads no package.json at start-up. */
declare const __GLIDER_VERSION__: string | undefined;

function version(): string {
  if (typeof __GLIDER_VERSION__ === "string") return __GLIDER_VERSION__;
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function jobsOption() {
  return new Option("-j, --jobs <n>", "objects transferred at once (default: 2 × cores, 4 to 16)");
}

/** Flags every verb takes, as the DeltaGlider CLI has them on each command. */
function connection(command: Command): Command {
  return command
    .option("--endpoint-url <url>", "S3 endpoint (implies the s3 store; path-style addressing)")
    .option("--region <region>", "S3 region")
    .option("--profile <name>", "AWS profile for credentials")
    .option("--json", "one JSON document on stdout");
}

function transferFlags(command: Command, { delta = true } = {}): Command {
  command
    .option("--include <pattern>", "only paths matching this fnmatch pattern (repeatable)", collect)
    .option("--exclude <pattern>", "skip paths matching this fnmatch pattern (repeatable)", collect)
    .option("-q, --quiet", "no per-object lines and no progress");
  if (delta) {
    command
      .option("--no-delta", "store files as plain objects, without delta compression")
      .option("--max-ratio <ratio>", "store a direct file when delta/file is above this (default 0.5)");
  }
  return command;
}

async function dispatch(verb: VerbName, args: string[], command: Command): Promise<void> {
  const { runVerb } = await import("./cli/runtime.js");
  process.exitCode = await runVerb(VERBS[verb], args, { ...command.optsWithGlobals() });
}

export function buildProgram(): Command {
  const program = new Command("glider")
    .description("DeltaGlider buckets from the command line: delta-compressed copies, sync, migration and stats")
    .version(`glider ${version()}`, "--version", "print the version and exit")
    .helpOption("--help", "show help")
    .option("--debug", "log every storage call and debug details on stderr")
    .option("--no-progress", "never draw a progress bar")
    .exitOverride()
    .configureOutput({
      outputError: (text, write) =>
        write(`invalid_request: ${text.trim().replace(/^error: /, "")} (glider --help shows the usage)\n`),
    });

  connection(
    transferFlags(
      program
        .command("cp")
        .description("copy files to, from or between s3:// locations (SOURCE/DEST: path, -, or s3://BUCKET/KEY)")
        .argument("<source>")
        .argument("<dest>")
        .option("-r, --recursive", "copy a whole folder or prefix")
        .addOption(jobsOption()),
    ),
  ).action((source, dest, _o, cmd) => dispatch("cp", [source, dest], cmd));

  connection(
    program
      .command("ls")
      .description("list buckets, or the objects of s3://BUCKET[/PREFIX] with their original sizes")
      .argument("[s3url]")
      .option("-r, --recursive", "every object below the prefix")
      .option("-h, --human-readable", "sizes in K, M, G")
      .option("--summarize", "total object count and size at the end"),
  ).action((url, _o, cmd) => dispatch("ls", url === undefined ? [] : [url], cmd));

  connection(
    program
      .command("rm")
      .description("delete an object, or with -r everything below a prefix (references nothing needs go too)")
      .argument("<s3url>")
      .option("-r, --recursive", "everything below the prefix")
      .option("--dryrun", "show what would be deleted")
      .option("-q, --quiet", "no per-object lines"),
  ).action((url, _o, cmd) => dispatch("rm", [url], cmd));

  connection(
    transferFlags(
      program
        .command("sync")
        .description("make DEST like SOURCE (a folder and an s3:// prefix, either way): new, resized or newer files")
        .argument("<source>")
        .argument("<dest>")
        .option("--delete", "delete destination files the source does not have")
        .option("--dryrun", "show what would be done")
        .option("--size-only", "compare sizes only, not modification times")
        .addOption(jobsOption()),
    ),
  ).action((source, dest, _o, cmd) => dispatch("sync", [source, dest], cmd));

  connection(
    transferFlags(
      program
        .command("migrate")
        .description("copy existing S3 objects into DeltaGlider layout (resumable: present objects are skipped)")
        .argument("<source>")
        .argument("<dest>")
        .option("--dry-run", "show what would be migrated")
        .option("-y, --yes", "do not ask for confirmation")
        .option("--no-preserve-prefix", "do not keep the source folder's name under DEST")
        .addOption(jobsOption()),
    ),
  ).action((source, dest, _o, cmd) => dispatch("migrate", [source, dest], cmd));

  connection(
    program
      .command("verify")
      .description("reconstruct an object and check its sha256 (JSON: valid, expected_sha256, actual_sha256, message)")
      .argument("<s3url>"),
  ).action((url, _o, cmd) => dispatch("verify", [url], cmd));

  connection(
    program
      .command("stats")
      .description("bucket statistics: objects, original and stored size, savings (BUCKET or s3://BUCKET)")
      .argument("<bucket>")
      .option("--sampled", "one HEAD per DeltaSpace (estimates the other deltas)")
      .option("--detailed", "one HEAD per delta: exact original sizes")
      .option("--refresh", "recompute even when cached figures are still valid")
      .option("--no-cache", "neither read nor write cached figures"),
  ).action((bucket, _o, cmd) => dispatch("stats", [bucket], cmd));

  connection(
    program
      .command("purge")
      .description("delete expired temporary copies under .deltaglider/tmp/ (BUCKET or s3://BUCKET)")
      .argument("<bucket>")
      .option("--dry-run", "show what would be deleted"),
  ).action((bucket, _o, cmd) => dispatch("purge", [bucket], cmd));

  connection(
    program
      .command("get-bucket-acl")
      .description("print a bucket's ACL as aws s3api does (BUCKET or s3://BUCKET)")
      .argument("<bucket>"),
  ).action((bucket, _o, cmd) => dispatch("get-bucket-acl", [bucket], cmd));

  connection(
    program
      .command("put-bucket-acl")
      .description("set a bucket's ACL (a canned --acl, grants, or a JSON policy)")
      .argument("<bucket>")
      .addOption(
        new Option("--acl <acl>", "canned ACL").choices([
          "private",
          "public-read",
          "public-read-write",
          "authenticated-read",
        ]),
      )
      .option("--grant-full-control <grantees>", "e.g. id=CANONICAL_ID")
      .option("--grant-read <grantees>", "may list objects")
      .option("--grant-read-acp <grantees>", "may read the ACL")
      .option("--grant-write <grantees>", "may create objects")
      .option("--grant-write-acp <grantees>", "may write the ACL")
      .option("--access-control-policy <json>", "the whole ACL as JSON"),
  ).action((bucket, _o, cmd) => dispatch("put-bucket-acl", [bucket], cmd));

  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length === 0) {
    process.stderr.write("invalid_request: no command given (glider --help shows the usage)\n");
    process.exitCode = 2;
    return;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end "successfully"; everything else is a wrong command line.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  () => process.stdout.write("", () => process.exit()),
  (error: unknown) => {
    process.stderr.write(`internal: ${error instanceof Error ? error.message : String(error)}\n`);
    process.stdout.write("", () => process.exit(1));
  },
);
