/**
 * xdelta3-like command line for Glider's VCDIFF codec:
 *   vcdiff decode [-s SOURCE] DELTA OUT    (DELTA "-" = stdin, OUT "-" = stdout)
 *   vcdiff encode [-s SOURCE] TARGET OUT   (TARGET "-" = stdin, OUT "-" = stdout)
 *   vcdiff printhdr DELTA
 * Unlike xdelta3 it never (de)compresses gzip/bzip2/xz inputs: pass the decompressed source yourself.
 * On failure it exits 1 with one stderr line starting with the error code (e.g. "checksum_mismatch: ...").
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import {
  encodeVcdiff,
  fileSource,
  openVcdiff,
  VCD_ADDRCOMP,
  VCD_ADLER32,
  VCD_APPHEADER,
  VCD_DATACOMP,
  VCD_DECOMPRESS,
  VCD_INSTCOMP,
  VCD_SOURCE,
  VCD_TARGET,
  VcdiffError,
} from "../services/vcdiff/index.js";

const USAGE = "usage: vcdiff decode [-s SOURCE] DELTA OUT | encode [-s SOURCE] TARGET OUT | printhdr DELTA";

class UsageError extends Error {}

function input(path: string): Readable {
  return path === "-" ? process.stdin : createReadStream(path, { highWaterMark: 1024 * 1024 });
}

/** Streams chunks to OUT through a temporary file renamed into place only on success. */
async function writeOutput(out: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  if (out === "-") {
    await pipeline(chunks, process.stdout, { end: false });
    return;
  }
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await pipeline(chunks, createWriteStream(temp));
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function decode(sourcePath: string | undefined, deltaPath: string, out: string): Promise<void> {
  const source = sourcePath ? await fileSource(sourcePath) : null;
  try {
    const reader = await openVcdiff(input(deltaPath));
    const letter = reader.header.appHeader?.sourceCompression;
    if (letter) {
      process.stderr.write(
        `warning: the delta was made against the decompressed source (${letter}); pass it decompressed\n`,
      );
    }
    await writeOutput(out, reader.decode(source));
  } finally {
    await source?.close();
  }
}

async function encode(sourcePath: string | undefined, targetPath: string, out: string): Promise<void> {
  const source = sourcePath ? await readFile(sourcePath) : null;
  const targetName = targetPath === "-" ? "stdin" : basename(targetPath);
  const appHeader = sourcePath ? `${targetName}//${basename(sourcePath)}/` : `${targetName}/`;
  await writeOutput(out, encodeVcdiff(source, input(targetPath), { appHeader }));
}

function flags(value: number, names: [number, string][]): string {
  const set = names.filter(([bit]) => value & bit).map(([, name]) => name);
  return `0x${value.toString(16).padStart(2, "0")}${set.length ? ` (${set.join(" | ")})` : ""}`;
}

async function printhdr(deltaPath: string): Promise<void> {
  const reader = await openVcdiff(input(deltaPath));
  const { header } = reader;
  const lines = [
    `VCDIFF header size:            ${header.size}`,
    `VCDIFF header indicator:       ${flags(header.hdrIndicator, [
      [VCD_DECOMPRESS, "VCD_SECONDARY"],
      [VCD_APPHEADER, "VCD_APPHEADER"],
    ])}`,
    `VCDIFF secondary compressor:   ${header.secondary}`,
  ];
  const app = header.appHeader;
  if (app) {
    lines.push(
      `VCDIFF application header:     ${new TextDecoder().decode(app.raw)}`,
      `  target name / compression:   ${app.targetName} / ${app.targetCompression || "-"}`,
      `  source name / compression:   ${app.sourceName} / ${app.sourceCompression || "-"}`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  let count = 0;
  for await (const win of reader.windows()) {
    count++;
    const adler = win.adler32 === null ? "-" : win.adler32.toString(16).padStart(8, "0");
    process.stdout.write(
      [
        `window ${win.index} (offset ${win.offset}):`,
        `  window indicator:            ${flags(win.winIndicator, [
          [VCD_SOURCE, "VCD_SOURCE"],
          [VCD_TARGET, "VCD_TARGET"],
          [VCD_ADLER32, "VCD_ADLER32"],
        ])}`,
        `  source segment length:       ${win.sourceSegmentLength}`,
        `  source segment position:     ${win.sourceSegmentPosition}`,
        `  delta encoding length:       ${win.deltaLength}`,
        `  target window length:        ${win.targetLength}`,
        `  delta indicator:             ${flags(win.deltaIndicator, [
          [VCD_DATACOMP, "VCD_DATACOMP"],
          [VCD_INSTCOMP, "VCD_INSTCOMP"],
          [VCD_ADDRCOMP, "VCD_ADDRCOMP"],
        ])}`,
        `  data section length:         ${win.dataLength}`,
        `  inst section length:         ${win.instLength}`,
        `  addr section length:         ${win.addrLength}`,
        `  adler32:                     ${adler}`,
        "",
      ].join("\n"),
    );
  }
  process.stdout.write(`windows: ${count}\n`);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { source: { type: "string", short: "s" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [command, ...rest] = positionals;
  if ((command === "decode" || command === "encode") && rest.length === 2) {
    const [from, out] = rest;
    if (command === "decode") await decode(values.source, from, out);
    else await encode(values.source, from, out);
  } else if (command === "printhdr" && rest.length === 1 && values.source === undefined) {
    await printhdr(rest[0]);
  } else {
    throw new UsageError(USAGE);
  }
}

function errorLine(error: unknown): string {
  if (error instanceof VcdiffError) return error.message; // already "<code>: ..."
  if (error instanceof UsageError) return `usage_error: ${error.message}`;
  const nodeError = error as NodeJS.ErrnoException;
  if (
    nodeError?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ||
    nodeError?.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE"
  ) {
    return `usage_error: ${nodeError.message} (${USAGE})`;
  }
  if (typeof nodeError?.code === "string" && nodeError.syscall) return `io_error: ${nodeError.message}`;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

// `vcdiff printhdr x | head` closes stdout early: that is not a failure.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  () => {
    process.exitCode = 0;
  },
  (error: unknown) => {
    process.stderr.write(`${errorLine(error).split("\n")[0]}\n`);
    process.exitCode = 1;
  },
);
