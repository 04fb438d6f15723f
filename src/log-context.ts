import { AsyncLocalStorage } from "node:async_hooks";

/**
 * What every log line written on behalf of a request carries, whoever writes it: a service or the storage layer logs
 * through its own start-up logger and never sees the request, so the logger's mixin (logger.ts) reads this instead.
 * Plain Node: services and the CLI share the logger, and nothing here knows fastify (http/request-log-context.ts sets it).
 */
export interface LogContext {
  reqId: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` (and everything it starts: promises, timers, streams created inside) with `context`. */
export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the code now running, if a request started it. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/** `fn` bound to the current context, for listeners that an emitter would otherwise call from its own I/O context. */
export function bindLogContext<F extends (...args: never[]) => unknown>(fn: F): F {
  return AsyncLocalStorage.bind(fn);
}
