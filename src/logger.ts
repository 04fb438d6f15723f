import { type DestinationStream, type Logger, pino } from "pino";
import { currentLogContext } from "./log-context.js";

/**
 * Set on a logger (fastify's `request.log`, and so its children) that already binds `reqId`: the mixin then adds
 * nothing, so a line never has the key twice.
 */
export const BINDS_REQ_ID = Symbol("glider.bindsReqId");

/** The server's logger: JSON lines to stdout (tests pass another `destination`). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "glider" },
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      // Lines that services and the storage layer write while serving a request carry its id (see log-context.ts).
      mixin: (_fields, _level, logger) => {
        if ((logger as unknown as Record<symbol, unknown>)[BINDS_REQ_ID]) return {};
        const context = currentLogContext();
        return context ? { reqId: context.reqId } : {};
      },
    },
    destination,
  );
}
