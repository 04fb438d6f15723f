import { createHash } from "node:crypto";
import { Agent, request } from "node:http";
import aws4 from "aws4";

/**
 * A minimal SigV4-signed S3 PutObject over `node:http`, for writing the listing bench's 100,000 tiny objects into
 * RGW. The SDK's client spends ~2 ms of CPU per PutObject here (its middleware stack, signer and checksum plumbing)
 * — as much as radosgw spends serving it — and on a 2-core machine the two share the same CPUs, so the SDK halves
 * the PUT rate. This does the same request (path-style URL, signed payload hash, `x-amz-meta-*` headers), signed
 * by `aws4`, in a fraction of that. Only for plain-HTTP endpoints and ASCII metadata values (what the bench writes); anything else
 * throws rather than sending something the SDK would not.
 */
export interface LeanPutClient {
  put(bucket: string, key: string, body: Uint8Array, metadata?: Record<string, string>): Promise<void>;
  close(): void;
}

export function createLeanPutClient(options: {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Keep-alive sockets kept open (one per request in flight). */
  sockets: number;
}): LeanPutClient {
  const url = new URL(options.endpoint);
  if (url.protocol !== "http:") throw new Error(`lean PUT client: only http endpoints (got ${url.protocol})`);
  const host = url.host;
  const agent = new Agent({ keepAlive: true, maxSockets: options.sockets, maxFreeSockets: options.sockets });
  return {
    async put(bucket, key, body, metadata = {}) {
      const path = `/${encodePath(bucket)}/${encodePath(key)}`;
      const headers: Record<string, string> = {
        // The SDK's PutObjectCommand sends this type for a byte body; RGW would otherwise store binary/octet-stream.
        "content-type": "application/octet-stream",
        "x-amz-content-sha256": createHash("sha256").update(body).digest("hex"),
      };
      for (const [name, value] of Object.entries(metadata)) {
        // Non-ASCII would need the SDK's encoding rules (see the issue 18 notes on RGW and latin1 headers).
        if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`lean PUT client: non-ASCII metadata ${name}`);
        headers[`x-amz-meta-${name.toLowerCase()}`] = value.trim();
      }
      // aws4 signs the path as given (S3 is not double-encoded) and adds host, x-amz-date and authorization.
      const signed = aws4.sign(
        { host, method: "PUT", path, service: "s3", region: options.region, headers },
        options.credentials,
      );
      return new Promise<void>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: "PUT",
            path,
            agent,
            headers: { ...signed.headers, "content-length": String(body.length) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              if (res.statusCode === 200) resolve();
              else
                reject(new Error(`PUT ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`));
            });
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** S3's URI encoding of a path: every byte but the unreserved set, each segment separately (`/` kept). */
function encodePath(value: string): string {
  return value
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join("/");
}
