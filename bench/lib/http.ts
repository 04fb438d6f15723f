import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Agent, request } from "node:http";
import { now } from "./stats.js";

/** Keep-alive, no socket cap: latency loops reuse connections, 50 parallel downloads get 50 sockets. */
export const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

export interface GetResult {
  status: number;
  /** From sending the request to the first body byte. */
  ttfbMs: number;
  totalMs: number;
  bytes: number;
  /** sha256 of the body when asked for. */
  sha256?: string;
  body?: string;
}

/** GET with timings; the body is counted and dropped (or hashed, or kept as text when `keepBody`). */
export function httpGet(url: string, options: { hash?: boolean; keepBody?: boolean } = {}): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const started = now();
    const req = request(url, { agent }, (res) => {
      let ttfbMs = -1;
      let bytes = 0;
      const hash = options.hash ? createHash("sha256") : undefined;
      const kept: Buffer[] = [];
      res.on("data", (chunk: Buffer) => {
        if (ttfbMs < 0) ttfbMs = now() - started;
        bytes += chunk.length;
        hash?.update(chunk);
        if (options.keepBody) kept.push(chunk);
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          ttfbMs: ttfbMs < 0 ? now() - started : ttfbMs,
          totalMs: now() - started,
          bytes,
          sha256: hash?.digest("hex"),
          body: options.keepBody ? Buffer.concat(kept).toString("utf8") : undefined,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

export interface PostFileResult {
  status: number;
  /** Request start to the end of the response. */
  totalMs: number;
  /** Request start to the last body byte handed to the socket. */
  sentMs: number;
  json: unknown;
}

/** POSTs a file as a raw `application/octet-stream` body; `onSent` fires once the whole body is written. */
export async function postFile(
  url: string,
  path: string,
  headers: Record<string, string> = {},
  onSent?: () => void,
): Promise<PostFileResult> {
  const { size } = await stat(path);
  return new Promise((resolve, reject) => {
    const started = now();
    let sentMs = -1;
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/octet-stream", "content-length": String(size), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, totalMs: now() - started, sentMs, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.on("finish", () => {
      sentMs = now() - started;
      onSent?.();
    });
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on("error", reject)
      .pipe(req);
  });
}

/** A small JSON request (fetch); throws on a status other than `expect`. */
export async function jsonRequest<T = Record<string, unknown>>(
  method: "GET" | "POST",
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  expect: number[] = [200, 201],
): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!expect.includes(response.status)) throw new Error(`${method} ${url}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Asserts a 2xx upload answer and returns its JSON. */
export function expectOk(result: { status: number; json: unknown }, what: string): Record<string, unknown> {
  if (result.status < 200 || result.status >= 300) {
    throw new Error(`${what}: ${result.status} ${JSON.stringify(result.json).slice(0, 500)}`);
  }
  return result.json as Record<string, unknown>;
}
