import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { FastifyRequest } from "fastify";

export interface SpooledFile {
  fieldname: string;
  /** The name the client gave (the Commander sends the relative path). */
  filename: string;
  path: string;
  size: number;
  /** Set when the file was not kept (more files than allowed): reported, never stored. */
  refused?: string;
  open(): ReturnType<typeof createReadStream>;
}

export interface SpooledForm {
  fields: Record<string, string>;
  files: SpooledFile[];
  /** Removes the spool folder; call once done. */
  cleanup(): Promise<void>;
}

/**
 * Reads a whole multipart form before anything is stored: every file to a temp file, every field. A request that
 * turns out wrong (a second file for one key, a missing field, a client that goes away) is refused with nothing
 * stored, instead of failing after storing its first file.
 */
export async function spoolForm(request: FastifyRequest, options: { maxFiles: number }): Promise<SpooledForm> {
  const dir = await mkdtemp(join(tmpdir(), "glider-form-"));
  const form: SpooledForm = {
    fields: {},
    files: [],
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  try {
    for await (const part of request.parts()) {
      if (part.type === "field") {
        form.fields[part.fieldname] = String(part.value);
        continue;
      }
      const path = join(dir, randomUUID());
      const file: SpooledFile = {
        fieldname: part.fieldname,
        filename: part.filename ?? "",
        path,
        size: 0,
        open: () => createReadStream(path),
      };
      if (form.files.length >= options.maxFiles) {
        part.file.resume();
        await new Promise((resolve) => part.file.once("end", resolve));
        file.refused = `at most ${options.maxFiles} files per request`;
      } else {
        await pipeline(part.file, createWriteStream(path));
        file.size = (await stat(path)).size;
      }
      form.files.push(file);
    }
  } catch (error) {
    await form.cleanup();
    throw error;
  }
  return form;
}
