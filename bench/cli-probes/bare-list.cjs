/**
 * bench:cli probe: the floor of any Node client for an unchanged sync. It starts Node, signs one ListObjectsV2 by
 * hand (SigV4, node:crypto), reads the answer and counts its keys: no SDK, no parsing beyond that. Reads
 * PROBE_BUCKET, PROBE_PREFIX, PROBE_KEYS and the AWS_* variables (path-style endpoint). Bench code only: the
 * product signs through the AWS SDK.
 */
const http = require("node:http");
const crypto = require("node:crypto");

const env = process.env;
const endpoint = new URL(env.AWS_ENDPOINT_URL);
const region = env.AWS_REGION || "us-east-1";
const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
const day = amzDate.slice(0, 8);
const path = `/${env.PROBE_BUCKET}`;
const query = `list-type=2&prefix=${encodeURIComponent(env.PROBE_PREFIX || "")}`;
const sha256 = (s) => crypto.createHash("sha256").update(s).digest("hex");
const hmac = (key, s) => crypto.createHmac("sha256", key).update(s).digest();
const emptyHash = sha256("");
const signed = "host;x-amz-content-sha256;x-amz-date";
const canonical = `GET\n${path}\n${query}\nhost:${endpoint.host}\nx-amz-content-sha256:${emptyHash}\nx-amz-date:${amzDate}\n\n${signed}\n${emptyHash}`;
const scope = `${day}/${region}/s3/aws4_request`;
const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`;
const key = hmac(hmac(hmac(hmac(`AWS4${env.AWS_SECRET_ACCESS_KEY}`, day), region), "s3"), "aws4_request");
const signature = crypto.createHmac("sha256", key).update(toSign).digest("hex");
const headers = {
  "x-amz-content-sha256": emptyHash,
  "x-amz-date": amzDate,
  authorization: `AWS4-HMAC-SHA256 Credential=${env.AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
};
http.get({ host: endpoint.hostname, port: endpoint.port, path: `${path}?${query}`, headers }, (res) => {
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (chunk) => {
    body += chunk;
  });
  res.on("end", () => {
    const keys = body.split("<Key>").length - 1;
    if (res.statusCode !== 200 || keys !== Number(env.PROBE_KEYS)) {
      process.stderr.write(`bare-list: HTTP ${res.statusCode}, ${keys} keys: ${body.slice(0, 300)}\n`);
      process.exit(1);
    }
  });
});
