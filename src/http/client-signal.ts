import type { FastifyReply } from "fastify";

/**
 * Aborted when the client goes away before the response is complete. (`request.signal` cannot serve: Node emits the
 * request's "close" once its body has been read, which would cancel every POST's work mid-way.)
 */
export function clientSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
