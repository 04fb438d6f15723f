import { request as httpRequest } from "node:http";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildApp } from "../../src/app.js";
import { createLogger } from "../../src/logger.js";
import { testConfig } from "../helpers/app.js";

type Line = Record<string, unknown>;

/** The app's log lines as the production logger (createLogger) writes them, with a wait for a line to appear. */
function logSink() {
  const lines: Line[] = [];
  const raw: string[] = [];
  const waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split("\n")) {
        if (!text) continue;
        raw.push(text);
        const line = JSON.parse(text) as Line;
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.match(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
      done();
    },
  });
  const waitFor = (match: (line: Line) => boolean) =>
    new Promise<Line>((resolve) => {
      const found = lines.find(match);
      if (found) resolve(found);
      else waiters.push({ match, resolve });
    });
  return { lines, raw, stream, waitFor };
}

const accessLine = (route: string) => (line: Line) => line.msg === "request" && line.route === route;

describe("request logs", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(env: Record<string, string> = {}) {
    const sink = logSink();
    app = await buildApp(testConfig({ LOG_LEVEL: "info", OBJECTS_RATE_LIMIT: "0", ...env }), {
      logger: createLogger("info", sink.stream),
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    if (!address || typeof address === "string") throw new Error("no address");
    return { ...sink, app, base: `http://127.0.0.1:${address.port}` };
  }

  it("a request's storage-call lines (GET, streamed and JSON POST, GraphQL, WebSocket) carry its reqId, once", async () => {
    const { app: server, lines, raw, base, waitFor } = await start();
    await server.services.store.createBucket("logs");
    const reqIdOf = async (route: string, method: string) =>
      (await waitFor((l) => accessLine(route)(l) && l.method === method)).reqId as string;

    await fetch(`${base}/api/objects?bucket=logs`);
    const listing = await reqIdOf("/api/objects", "GET");
    const upload = await fetch(`${base}/api/upload?bucket=logs&key=a.txt`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: "hello",
    });
    expect(upload.status).toBe(200);
    const uploading = await reqIdOf("/api/upload", "POST");
    // A JSON body parsed by fastify, sent only after the server answered "100 Continue": the handler then runs from
    // the request stream's "end" event, emitted from the socket's context, not the request's.
    const created = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/api/buckets`, {
        method: "POST",
        headers: { "content-type": "application/json", expect: "100-continue" },
      });
      req.once("continue", () => req.end(JSON.stringify({ name: "logs-two" })));
      req.once("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once("error", reject);
      req.flushHeaders();
    });
    expect(created).toBe(201);
    const creating = await reqIdOf("/api/buckets", "POST");
    const graphql = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: '{ object(bucket: "logs", key: "a.txt") { key } }' }),
    });
    expect((await graphql.json()).data.object.key).toBe("a.txt");
    const querying = await reqIdOf("/graphql", "POST");

    // Over WebSocket the operation runs in the upgrade request's context.
    const ws = new WebSocket(`${base.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    const messages: { type: string }[] = [];
    const next = () =>
      new Promise<{ type: string }>((resolve) => {
        const queued = messages.shift();
        if (queued) resolve(queued);
        else ws.once("message", () => resolve(messages.shift() as { type: string }));
      });
    ws.on("message", (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(JSON.stringify({ type: "connection_init" }));
    expect((await next()).type).toBe("connection_ack");
    ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: '{ bucket(name: "logs") { name } }' } }));
    expect((await next()).type).toBe("next");
    ws.close();
    const socketing = await reqIdOf("/graphql", "GET");

    const storageCalls = (reqId: string) => lines.filter((l) => l.msg === "storage call" && l.reqId === reqId);
    const all = [listing, uploading, creating, querying, socketing];
    expect(new Set(all).size).toBe(all.length);
    for (const reqId of all) expect(storageCalls(reqId).length).toBeGreaterThan(0);
    expect(storageCalls(uploading).map((l) => l.operation)).toContain("putObject");
    expect(storageCalls(creating).map((l) => l.operation)).toContain("createBucket");
    // request.log binds reqId itself: the mixin must not add it a second time.
    expect(raw.filter((text) => text.split('"reqId"').length > 2)).toEqual([]);
    // Lines outside any request (start-up) have none.
    expect(lines.find((l) => String(l.msg).startsWith("DOWNLOAD_TOKEN_SECRET"))).not.toHaveProperty("reqId");
  });

  it("writes an access line with aborted: true for a download, an SSE stream and a WebSocket the client cuts", async () => {
    const { app: server, base, waitFor } = await start();
    await server.services.store.createBucket("big");
    // Larger than the socket buffers: the download cannot finish before the client goes.
    const size = 24 * 1024 * 1024;
    await server.services.store.putObject({ bucket: "big", key: "big.bin", body: Buffer.alloc(size, 7) });
    const prepared = await fetch(`${base}/api/download/prepare`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ bucket: "big", key: "big.bin" }),
    });
    const { download_token: token } = (await prepared.json()) as { download_token: string };

    /** GETs `path`, and destroys the connection once the first body bytes arrived. */
    const cut = (path: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${base}${path}`, { headers }, (res) => {
          res.once("data", () => {
            req.destroy();
            resolve(res.statusCode ?? 0);
          });
        });
        req.once("error", (error) =>
          (error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error),
        );
        req.end();
      });

    expect(await cut(`/api/download/${token}`)).toBe(200);
    const download = await waitFor(accessLine("/api/download/:token"));
    expect(download).toMatchObject({ status: 200, aborted: true, method: "GET" });

    // The savings subscription over SSE first sends the bucket's state, then waits for a job: the client leaves.
    const query = encodeURIComponent('subscription { savingsProgress(bucket: "big") { state } }');
    expect(await cut(`/graphql?query=${query}`, { accept: "text/event-stream" })).toBe(200);
    expect(await waitFor(accessLine("/graphql"))).toMatchObject({ method: "GET", status: 200, aborted: true });

    // A WebSocket killed without a close frame (1006), then one closed properly.
    for (const how of ["terminate", "close"] as const) {
      const ws = new WebSocket(`${base.replace("http", "ws")}/graphql`, "graphql-transport-ws");
      await new Promise((resolve) => ws.once("open", resolve));
      ws[how]();
    }
    const sockets = [
      await waitFor((l) => accessLine("/graphql")(l) && l.status === 101 && l.aborted === true),
      await waitFor((l) => accessLine("/graphql")(l) && l.status === 101 && l.aborted === undefined),
    ];
    expect(sockets[0].reqId).not.toBe(sockets[1].reqId);
  });

  it("answers a malformed URL with 400 and the error envelope, and logs it", async () => {
    const { app: server, waitFor } = await start();
    for (const url of ["/api/%E0%A4%A", "/api/objects/b/%E0%A4%A"]) {
      const res = await server.inject({ method: "GET", url });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: { code: "invalid_request", message: expect.stringContaining("not a valid url"), details: {} },
      });
    }
    const line = await waitFor(accessLine("unmatched"));
    expect(line).toMatchObject({ method: "GET", status: 400 });
    expect(typeof line.reqId).toBe("string");
  });
});
