import type { FastifyRequest } from "fastify";
import { readCredentials } from "../services/credentials.js";
import type { Services } from "../services/index.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The services of the request's storage connection (its session's, or the server's). */
    connectionServices?: Services;
  }
}

/**
 * An onRequest hook for the browse routes: resolves the request's session to its connection's services, once, so
 * handlers call `servicesOf(request)`. GraphQL resolves the same way in its context (resolvers/context.ts).
 */
export function resolveConnection(services: Services, skip?: (request: FastifyRequest) => boolean) {
  return async (request: FastifyRequest) => {
    if (skip?.(request)) return;
    request.connectionServices = await services.forSession(readCredentials(request).sessionId);
  };
}

export function servicesOf(request: FastifyRequest): Services {
  if (!request.connectionServices) throw new Error("resolveConnection hook missing on this route");
  return request.connectionServices;
}
