import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

export interface StreamResult<T = unknown> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * A subscription as a pull-based queue: `next()` resolves with the next result (or undefined once the server ended
 * the stream), so a test waits for an event instead of sleeping.
 */
export interface Stream<T = unknown> {
  next(): Promise<StreamResult<T> | undefined>;
  /** Every remaining result until the server ends the stream. */
  rest(): Promise<StreamResult<T>[]>;
  close(): Promise<void>;
}

function queue<T>() {
  const items: (StreamResult<T> | undefined)[] = [];
  const waiting: ((value: StreamResult<T> | undefined) => void)[] = [];
  let failure: unknown;
  let ended = false;
  const push = (item: StreamResult<T> | undefined) => {
    const waiter = waiting.shift();
    if (waiter) waiter(item);
    else items.push(item);
  };
  return {
    put: (item: StreamResult<T>) => push(item),
    end() {
      if (ended) return;
      ended = true;
      push(undefined);
    },
    fail(error: unknown) {
      failure = error;
      this.end();
    },
    async next(): Promise<StreamResult<T> | undefined> {
      if (failure) throw failure;
      const item = items.length
        ? items.shift()
        : await new Promise<StreamResult<T> | undefined>((r) => waiting.push(r));
      if (item === undefined && failure) throw failure;
      // Once ended, every further call answers undefined again.
      if (item === undefined) items.unshift(undefined);
      return item;
    },
  };
}

async function drain<T>(next: () => Promise<StreamResult<T> | undefined>): Promise<StreamResult<T>[]> {
  const out: StreamResult<T>[] = [];
  for (let item = await next(); item; item = await next()) out.push(item);
  return out;
}

/** Subscribes over graphql-ws (WebSocket on the same path). */
export function wsSubscribe<T = unknown>(
  base: string,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
  operationName?: string,
): Stream<T> {
  const client: Client = createClient({
    url: `${base.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: headers
      ? class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers });
          }
        }
      : WebSocket,
    retryAttempts: 0,
  });
  const q = queue<T>();
  const unsubscribe = client.subscribe<T>(
    { query, variables, operationName },
    {
      next: (value) => q.put(value as StreamResult<T>),
      error: (error) => q.fail(error),
      complete: () => q.end(),
    },
  );
  return {
    next: () => q.next(),
    rest: () => drain(() => q.next()),
    async close() {
      unsubscribe();
      await client.dispose();
    },
  };
}

/** Subscribes over SSE (graphql-yoga, `Accept: text/event-stream`). */
export function sseSubscribe<T = unknown>(
  base: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
  operationName?: string,
): Stream<T> {
  const controller = new AbortController();
  const q = queue<T>();
  const read = async () => {
    const res = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
      body: JSON.stringify({ query, variables, operationName }),
      signal: controller.signal,
    });
    if (!res.headers.get("content-type")?.includes("text/event-stream")) {
      q.put((await res.json()) as StreamResult<T>);
      return;
    }
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = res.body?.getReader();
    while (reader) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let boundary = buffer.indexOf("\n\n"); boundary >= 0; boundary = buffer.indexOf("\n\n")) {
        const message = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const lines = message.split("\n");
        if (lines.some((l) => l.startsWith("event: complete"))) return;
        const data = lines
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trim())
          .join("");
        if (data) q.put(JSON.parse(data) as StreamResult<T>);
      }
    }
  };
  read().then(
    () => q.end(),
    (error) => (controller.signal.aborted ? q.end() : q.fail(error)),
  );
  return {
    next: () => q.next(),
    rest: () => drain(() => q.next()),
    async close() {
      controller.abort();
    },
  };
}

export const transports = { ws: wsSubscribe, sse: sseSubscribe } as const;
