import { useGraphQlJit } from "@envelop/graphql-jit";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type ExecutionArgs, type GraphQLSchema, getOperationAST, Kind } from "graphql";
import { makeHandler } from "graphql-ws/use/@fastify/websocket";
import { createYoga, type Plugin } from "graphql-yoga";
import type { WebSocket } from "ws";
import { clientSignal } from "../http/client-signal.js";
import { requireMediaType } from "../http/content-type.js";
import { bindLogContext } from "../log-context.js";
import { isGliderError } from "../services/errors.js";
import type { Services } from "../services/index.js";
import { createContext, credentialsFrom, type GraphQLContext } from "./context.js";
import { isArgumentRejection, maskError } from "./errors.js";

interface ServerContext {
  req: FastifyRequest;
  reply: FastifyReply;
}

/** The code a client will see: the domain error's, a GraphQL error's own, else `internal` (masked). */
function errorCode(error: unknown): string {
  for (let e = error as { code?: unknown; extensions?: { code?: unknown }; originalError?: unknown } | undefined; e; ) {
    if (isGliderError(e)) return e.code;
    if (isArgumentRejection(e)) return "invalid_request";
    if (!e.originalError && typeof e.extensions?.code === "string") return e.extensions.code;
    e = e.originalError as typeof e;
  }
  return "internal";
}

/** Per-operation metrics: count and duration by operation name and type, errors by code. */
function operationMetrics(services: Services): Plugin {
  const { metrics } = services;
  const record = (labels: { operation: string; type: string }, result: unknown) => {
    for (const error of (result as { errors?: readonly unknown[] })?.errors ?? []) {
      metrics.graphqlErrors.inc({ ...labels, code: errorCode(error) });
    }
  };
  const observe = (args: ExecutionArgs) => {
    const operation = getOperationAST(args.document, args.operationName);
    const labels = { operation: operation?.name?.value ?? "anonymous", type: operation?.operation ?? "unknown" };
    metrics.graphqlOperations.inc(labels);
    const started = performance.now();
    return {
      labels,
      done(result: unknown) {
        metrics.graphqlDuration.observe(labels, (performance.now() - started) / 1000);
        record(labels, result);
      },
    };
  };
  return {
    onExecute: ({ args }) => {
      const run = observe(args);
      return { onExecuteDone: ({ result }) => run.done(result) };
    },
    onSubscribe: ({ args }) => {
      const run = observe(args);
      return {
        onSubscribeResult: ({ result }) => {
          run.done(result);
          return {
            onNext: ({ result: event }) => record(run.labels, event),
          };
        },
        onSubscribeError: ({ error }) => run.done({ errors: [error] }),
      };
    },
  };
}

function isSubscription(args: ExecutionArgs): boolean {
  return getOperationAST(args.document, args.operationName)?.operation === "subscription";
}

/**
 * graphql-jit is used for documents with one operation only: @envelop/graphql-jit caches the compiled query per
 * parsed document (yoga reuses it for the same text) and ignores `operationName` on a cache hit, so a document with
 * `query Folder … mutation Download …` would run Folder whichever operation was asked for.
 */
function jitApplies(args: ExecutionArgs): boolean {
  const operations = args.document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
  return operations === 1 && !isSubscription(args);
}

/** Mounts graphql-yoga (HTTP, SSE, GraphiQL) and graphql-ws (WebSocket) on one path, sharing schema and context. */
export async function graphqlPlugin(
  app: FastifyInstance,
  options: { services: Services; schema: GraphQLSchema; path?: string },
) {
  const { services, schema } = options;
  const path = options.path ?? "/graphql";
  const limits = services.config.graphql;
  const log = (level: "debug" | "info" | "warn" | "error", args: unknown[]) => {
    const error = args.find((a) => a instanceof Error || (typeof a === "object" && a !== null && "message" in a));
    const message =
      args.find((a): a is string => typeof a === "string") ??
      (error as { message?: string } | undefined)?.message ??
      "graphql";
    const code = error ? errorCode(error) : undefined;
    const domain = code !== undefined && code !== "internal" && code !== "INTERNAL_SERVER_ERROR";
    const fields = error ? { err: error, ...(domain ? { code } : {}) } : {};
    app.log[level === "error" && domain ? "info" : level](fields, message);
  };
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: path,
    graphiql: services.config.graphiql ? { subscriptionsProtocol: "WS" } : false,
    // GraphiQL's page and assets come from this package (bundled), never from a CDN: it works air-gapped.
    renderGraphiQL,
    landingPage: false,
    // CORS is the app's one policy (src/http/browser-policy.ts), not yoga's permissive default.
    cors: false,
    // yoga logs (message, ...details): one pino line with a message, never `{"0": …}`. Domain errors are expected
    // (bucket_not_found, unauthorized…): yoga reports them at error level, they are logged at info with their code.
    logging: {
      debug: (...args) => log("debug", args),
      info: (...args) => log("info", args),
      warn: (...args) => log("warn", args),
      error: (...args) => log("error", args),
    },
    maskedErrors: { maskError },
    plugins: [
      ...(services.config.http.introspection ? [] : [useDisableIntrospection()]),
      // graphql-jit compiles queries and mutations of one-operation documents (about half the CPU of a 200-row page);
      // subscriptions run on graphql-js, because graphql-jit's compiled subscribe ignores inline arguments and
      // variables not named as the argument. test/schema/jit-differential.test.ts compares a corpus of operations with and without JIT.
      ...(services.config.graphql.jit ? [useGraphQlJit({}, { enableIf: jitApplies })] : []),
      maxDepthPlugin({ n: limits.maxDepth, flattenFragments: true }),
      maxAliasesPlugin({ n: limits.maxAliases }),
      costLimitPlugin({ maxCost: limits.maxCost }),
      maxTokensPlugin({ n: limits.maxTokens }),
      operationMetrics(services),
    ],
    // Over WebSocket there is no HTTP reply: onSubscribe below passes the socket's signal through `wsSignal`.
    // The request's session selects its storage connection, exactly as for REST (rest/session.ts).
    // Over WebSocket, credentials in graphql-ws' `connectionParams` win over the upgrade request's headers.
    context: async ({
      req,
      reply,
      wsSignal,
      connectionParams,
    }: Partial<ServerContext> & { wsSignal?: AbortSignal; connectionParams?: unknown }) => {
      const credentials = credentialsFrom(req?.headers ?? {}, connectionParams);
      return createContext(
        await services.forSession(credentials.sessionId),
        wsSignal ?? (reply ? clientSignal(reply) : new AbortController().signal),
        req?.ip ?? "unknown",
        credentials,
      );
    },
  });

  const wsHandler = makeHandler({
    schema,
    execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
    subscribe: (args) => (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
    onSubscribe: async (ctx, _id, payload) => {
      const controller = new AbortController();
      ctx.extra.socket.once("close", () => controller.abort());
      const {
        schema: envelopedSchema,
        execute,
        subscribe,
        contextFactory,
        parse,
        validate,
      } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params: payload,
        wsSignal: controller.signal,
      });
      const args = {
        schema: envelopedSchema,
        operationName: payload.operationName,
        document: parse(payload.query),
        variableValues: payload.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
      const errors = validate(args.schema, args.document);
      if (errors.length) return errors;
      return args;
    },
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const response = await yoga.handleNodeRequestAndResponse(req, reply, { req, reply });
    response.headers.forEach((value, key) => {
      reply.header(key, value);
    });
    reply.status(response.status);
    // A single JSON result is already a string inside the Response: send it as such, not through a web stream.
    const type = response.headers.get("content-type") ?? "";
    if (type.startsWith("application/json") || type.startsWith("application/graphql-response+json")) {
      reply.send(await response.text());
    } else {
      reply.send(response.body);
    }
    return reply;
  };
  // @fastify/websocket takes upgrades on GET only; plain GET (GraphiQL, SSE, queries) still reaches yoga.
  app.route({
    url: path,
    method: "GET",
    handler,
    // ws emits a socket's messages from its own I/O context: the listeners graphql-ws adds are bound to the upgrade
    // request's log context, so operations over WebSocket log (storage calls included) with that reqId.
    wsHandler(this: FastifyInstance, socket, request) {
      for (const method of ["on", "once"] as const) {
        const add = socket[method].bind(socket) as (
          event: string,
          listener: (...args: never[]) => unknown,
        ) => WebSocket;
        socket[method] = ((event: string, listener: (...args: never[]) => unknown) =>
          add(event, bindLogContext(listener))) as WebSocket["on"];
      }
      return wsHandler.call(this, socket, request);
    },
  });
  // Yoga answers other media types with a bare 415 and a `null` body: refuse them first, with the error envelope.
  const postMediaTypes = requireMediaType(
    "application/json",
    "application/graphql-response+json",
    "application/graphql",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
  );
  app.route({ url: path, method: "POST", handler, onRequest: postMediaTypes });
}
