import type { Services } from "../services/index.js";

/** Built per GraphQL operation (HTTP or WebSocket). */
export interface GraphQLContext {
  services: Services;
  /** Aborted when the client goes away, so storage reads stop with it. */
  signal: AbortSignal;
  /** Caller address (for rate limits and audit). */
  ip: string;
}

export function createContext(services: Services, signal: AbortSignal, ip: string): GraphQLContext {
  return { services, signal, ip };
}
