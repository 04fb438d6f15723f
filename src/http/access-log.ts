import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type { Services } from "../services/index.js";

declare module "fastify" {
  interface FastifyRequest {
    startedAt: number;
    bytesWrittenAtStart: number;
    /** Set once its access line is written: a request gets exactly one, however it ends. */
    accessLogged?: boolean;
  }
}

/** The fastify request of a raw upgrade request, so the WebSocket's close can write its line. */
const byRaw = new WeakMap<IncomingMessage, { request: FastifyRequest; reply: FastifyReply }>();

function pick(source: unknown, name: string): string | undefined {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * One JSON access line and one metrics sample per request: when the response finishes (onResponse), when the client
 * goes away first (`aborted: true`: a download or an SSE stream cut short), and for a WebSocket when it closes (status
 * 101, `aborted: true` when the client dropped the connection without a close frame).
 */
export function registerAccessLog(app: FastifyInstance, services: Services) {
  app.addHook("onRequest", async (request, reply) => {
    request.startedAt = performance.now();
    request.bytesWrittenAtStart = request.raw.socket?.bytesWritten ?? 0;
    // Fastify runs onResponse on "finish" only; a response closed before it (or a hijacked upgrade whose socket
    // closed before the handshake) would write no line. An upgraded WebSocket writes its own, below.
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished && !request.raw.upgraded) writeAccessLine(services, request, reply, true);
    });
    if (request.headers.upgrade) byRaw.set(request.raw, { request, reply });
  });
  app.addHook("onResponse", async (request, reply) => writeAccessLine(services, request, reply, false));
  app.websocketServer.on("connection", (socket: WebSocket, raw: IncomingMessage) => {
    const entry = byRaw.get(raw);
    if (!entry) return;
    raw.upgraded = true;
    // 1006: the connection ended without a close frame (the client vanished or was killed).
    socket.once("close", (code: number) => writeAccessLine(services, entry.request, entry.reply, code === 1006, 101));
  });
}

/** Writes the request's access line, once. Also for requests that never ran onRequest (a malformed URL). */
export function writeAccessLine(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  aborted: boolean,
  status = reply.statusCode,
) {
  if (request.accessLogged) return;
  request.accessLogged = true;
  const latency = request.startedAt === undefined ? 0 : performance.now() - request.startedAt;
  const route = request.routeOptions.url ?? "unmatched";
  services.metrics.httpRequests.inc({ method: request.method, route, status });
  services.metrics.httpDuration.observe({ method: request.method, route }, latency / 1000);
  request.log.info(
    {
      // The keyed hash, not the address, when SEND_ANONYMISE_IPS is on.
      ip: services.audit.displayIp(request.ip),
      method: request.method,
      route,
      status,
      latency_ms: Math.round(latency * 10) / 10,
      bytes_out: (request.raw.socket?.bytesWritten ?? 0) - (request.bytesWrittenAtStart ?? 0),
      ...(aborted ? { aborted: true } : {}),
      bucket: pick(request.params, "bucket") ?? pick(request.query, "bucket") ?? pick(request.body, "bucket"),
      key: request.routeOptions.url
        ? (pick(request.params, "*") ?? pick(request.query, "key") ?? pick(request.body, "key"))
        : undefined,
    },
    "request",
  );
}

declare module "node:http" {
  interface IncomingMessage {
    /** Became a WebSocket: its access line is written when the socket closes. */
    upgraded?: boolean;
  }
}
