import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { GliderError } from "../errors.js";

/**
 * xdelta3's external compression (format doc §8.5): inputs whose first bytes match a compressor's magic are diffed
 * in decompressed form, and a target letter in the application header means "recompress the output".
 */
export type CompressionLetter = "G" | "B" | "Y" | "Z";

const TOOLS: Record<CompressionLetter, { name: string; decompress: string[]; compress: string[] }> = {
  G: { name: "gzip", decompress: ["gzip", "-dc"], compress: ["gzip", "-c"] },
  B: { name: "bzip2", decompress: ["bzip2", "-dc"], compress: ["bzip2", "-c"] },
  Y: { name: "xz", decompress: ["xz", "-dc"], compress: ["xz", "-c"] },
  Z: { name: "compress", decompress: ["gzip", "-dc"], compress: ["compress", "-c"] },
};

export function detectMagic(head: Uint8Array): CompressionLetter | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return "G";
  if (head[0] === 0x1f && head[1] === 0x9d) return "Z";
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return "B";
  if (head[0] === 0xfd && head[1] === 0x37) return "Y";
  return undefined;
}

export function isCompressionLetter(value: string): value is CompressionLetter {
  return value === "G" || value === "B" || value === "Y" || value === "Z";
}

const onPath = new Map<string, boolean>();
function hasTool(command: string): boolean {
  let found = onPath.get(command);
  if (found === undefined) {
    found = spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
    onPath.set(command, found);
  }
  return found;
}

function requireTool(argv: string[], why: string): void {
  if (!hasTool(argv[0])) {
    throw new GliderError("unsupported", `${why} needs the "${argv[0]}" program, which is not installed`, {
      tool: argv[0],
    });
  }
}

/** Pipes bytes through an external program; its failure (non-zero exit) errors the output stream. */
function pipeThrough(argv: string[], input: AsyncIterable<Uint8Array>, signal?: AbortSignal): Readable {
  const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], signal });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const stdin = child.stdin;
  stdin.on("error", () => undefined);
  (async () => {
    try {
      for await (const chunk of input) {
        if (!stdin.write(chunk)) await new Promise((r) => stdin.once("drain", r));
      }
      stdin.end();
    } catch (error) {
      child.stdout.destroy(error as Error);
      child.kill();
    }
  })();
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  return Readable.from(
    (async function* () {
      for await (const chunk of child.stdout) yield chunk as Buffer;
      const code = await exited;
      if (code !== 0) {
        throw new GliderError("integrity_failed", `${argv.join(" ")} failed (${code}): ${stderr.trim()}`, {
          tool: argv[0],
        });
      }
    })(),
  );
}

/** Decompresses a reference the way xdelta3 does before diffing against it (all concatenated members). */
export function decompressStream(letter: CompressionLetter, input: AsyncIterable<Uint8Array>): Readable {
  if (letter === "G") return Readable.from(input).pipe(createGunzip());
  const argv = TOOLS[letter].decompress;
  requireTool(argv, `reading a ${TOOLS[letter].name}-compressed reference`);
  return pipeThrough(argv, input);
}

/** Recompresses decoded output the way `xdelta3 -d` does when the target letter is set: only GNU tools are faithful. */
export function recompressStream(letter: CompressionLetter, input: AsyncIterable<Uint8Array>, signal?: AbortSignal) {
  const argv = TOOLS[letter].compress;
  requireTool(argv, `restoring a ${TOOLS[letter].name}-compressed file byte for byte`);
  return pipeThrough(argv, input, signal);
}

/** Throws `unsupported` now (before any byte is sent) when the recompressor is missing. */
export function assertCanRecompress(letter: CompressionLetter): void {
  requireTool(TOOLS[letter].compress, `restoring a ${TOOLS[letter].name}-compressed file byte for byte`);
}

export function canRecompress(letter: CompressionLetter): boolean {
  return hasTool(TOOLS[letter].compress[0]);
}

/**
 * Decompresses a file and checks that the matching GNU tool recompresses it to the very same bytes (true for files
 * from `gzip -n` level 6 and GNU tar, not for zlib's output). Only then may a delta carry a target letter, which tells
 * readers to recompress; the decompressed file's path, size and sha256 are returned, else undefined.
 */
export async function decompressIfFaithful(
  letter: CompressionLetter,
  path: string,
  sha256: string,
  outPath: string,
): Promise<{ path: string; size: number; sha256: string } | undefined> {
  const decompressedHash = createHash("sha256");
  let size = 0;
  try {
    await pipeline(
      decompressStream(letter, createReadStream(path)),
      async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          decompressedHash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(outPath),
    );
    const again = createHash("sha256");
    for await (const chunk of recompressStream(letter, createReadStream(outPath))) again.update(chunk);
    if (again.digest("hex") !== sha256) return undefined;
  } catch {
    return undefined;
  }
  return { path: outPath, size, sha256: decompressedHash.digest("hex") };
}
