import { createHash } from "node:crypto";
import { GliderError } from "../errors.js";
import type { ByteRange, ObjectHead, PutBody } from "./object-store.js";

export async function* iterateBody(body: PutBody): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  }
}

export async function readAll(body: PutBody): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterateBody(body)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** S3-style ETag of a single-part object: the quoted hex MD5 of its bytes. */
export function md5Etag(data: Uint8Array): string {
  return `"${createHash("md5").update(data).digest("hex")}"`;
}

export function lowerCaseMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) out[k.toLowerCase()] = String(v);
  return out;
}

/** Metadata names as every backend reads them back: lower-cased, `_` as `-` (Ceph RGW's spelling; see ObjectHead). */
export function readableMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) out[k.toLowerCase().replaceAll("_", "-")] = String(v);
  return out;
}

/** An ETag without its quotes (and weak prefix): the form `If-Match` compares on every backend. */
export function bareEtag(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/** Resolves an inclusive HTTP-style range against an object size; unsatisfiable ranges are `invalid_request`. */
export function resolveRange(range: ByteRange | undefined, size: number): { start: number; end: number } {
  if (!range) return { start: 0, end: size - 1 };
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (!Number.isInteger(range.start) || range.start < 0 || range.start >= size || end < range.start) {
    throw new GliderError(
      "invalid_request",
      `range ${range.start}-${range.end ?? ""} not satisfiable for ${size} bytes`,
      {
        range,
        size,
      },
    );
  }
  return { start: range.start, end };
}

export function cloneHead(head: ObjectHead): ObjectHead {
  return { ...head, lastModified: new Date(head.lastModified), metadata: { ...head.metadata } };
}
