import type { FastifyInstance } from "fastify";
import { runWithLogContext } from "../log-context.js";

/**
 * Runs each request in its log context (log-context.ts), so whatever it causes — service and storage log lines
 * included — carries its reqId. Register before other hooks: hooks added earlier run outside the context. Fastify
 * (5.x) resumes a parsed body's handler in the request's async context (an AsyncResource in its content-type parser),
 * so entering once suffices; test/server/request-logs.test.ts sends a body after "100 Continue" to keep it so.
 */
export function bindRequestLogContext(app: FastifyInstance) {
  app.addHook("onRequest", (request, _reply, done) => runWithLogContext({ reqId: request.id }, done));
}
