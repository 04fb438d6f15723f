import type { GliderServer } from "./glider.js";
import { expectOk, jsonRequest, postFile } from "./http.js";

/** Glider's REST and GraphQL calls the parts make. */

export interface UploadAnswer {
  status: string;
  key: string;
  stored_as: "reference" | "delta" | "direct";
  original_bytes: number;
  stored_bytes: number;
  sha256: string;
}

/** `POST /api/upload?bucket=&key=` with the file as a raw body. */
export async function upload(
  server: GliderServer,
  bucket: string,
  key: string,
  path: string,
  onSent?: () => void,
): Promise<{ answer: UploadAnswer; totalMs: number; sentMs: number }> {
  const url = `${server.url}/api/upload?bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}`;
  const result = await postFile(url, path, {}, onSent);
  const answer = expectOk(result, `upload ${bucket}/${key}`) as unknown as UploadAnswer;
  return { answer, totalMs: result.totalMs, sentMs: result.sentMs };
}

/** `POST /api/download/prepare` → the `GET /api/download/{token}` URL. */
export async function prepareDownload(server: GliderServer, bucket: string, key: string): Promise<string> {
  const ticket = await jsonRequest<{ download_token: string }>("POST", `${server.url}/api/download/prepare`, {
    bucket,
    key,
  });
  return `${server.url}/api/download/${ticket.download_token}`;
}

/** `GET /api/objects` URL of a folder's first page. */
export function objectsUrl(server: GliderServer, bucket: string, prefix: string, limit = 200, sort?: string): string {
  const q = new URLSearchParams({ bucket, prefix, limit: String(limit) });
  if (sort) q.set("sort", sort);
  return `${server.url}/api/objects?${q}`;
}

/** The GraphQL document of the same page (default sort, like the REST default: modified, newest first). */
export function objectsQuery(bucket: string, prefix: string, first = 200): string {
  return `{ bucket(name: ${JSON.stringify(bucket)}) { objects(first: ${first}, prefix: ${JSON.stringify(prefix)}) { edges { node { key originalBytes storedBytes compressed modified } } } } }`;
}
