import type { ServerResponse } from "node:http";
import type { FastifyReply } from "fastify";
import type { LeasedChunk } from "../services/leased-chunks.js";

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Streams leased chunks to the client without copying them. A chunk is released when its socket write has completed
 * (the write callback), or when the connection has closed (libuv has then completed or cancelled every write), never
 * before: its buffer may be reused for another download right after. fastify's own stream piping cannot say when a
 * chunk has been written, hence `reply.hijack()`; fastify still runs onResponse hooks (access log, metrics).
 * Headers set on `reply` are sent. A failure after the headers destroys the connection, so the client sees a
 * truncated response, never a clean end.
 */
export async function sendLeased(reply: FastifyReply, chunks: AsyncIterable<LeasedChunk>): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  const socket = res.socket;
  const pending = new Set<LeasedChunk>();
  const releaseAll = () => {
    for (const chunk of pending) chunk.release();
    pending.clear();
  };
  socket?.once("close", releaseAll);
  // 'finish': the last byte was handed to the OS, so every earlier write has completed. Keep-alive sockets outlive
  // the response, so the close listener goes then.
  res.once("finish", () => {
    releaseAll();
    socket?.off("close", releaseAll);
  });
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) res.setHeader(name, value);
  }
  res.writeHead(reply.statusCode);
  try {
    for await (const chunk of chunks) {
      if (res.destroyed || socket?.destroyed) {
        chunk.release();
        break;
      }
      pending.add(chunk);
      const flushed = res.write(chunk.bytes, () => {
        if (pending.delete(chunk)) chunk.release();
      });
      if (!flushed) await drainedOrClosed(res);
    }
    if (!res.destroyed) res.end();
  } catch (error) {
    reply.log.warn({ err: error }, "response failed after its headers were sent");
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    // Destroyed before a socket existed, or the socket was already closed: no close event is coming.
    if (!socket || socket.closed) releaseAll();
  }
}
