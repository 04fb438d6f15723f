import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one Glider process; one registry per app so tests can build several apps. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: "glider_http_requests_total",
      help: "HTTP requests by route, method and status",
      labelNames: ["method", "route", "status"] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "glider_http_request_duration_seconds",
      help: "HTTP request latency",
      labelNames: ["method", "route"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    graphqlOperations: new Counter({
      name: "glider_graphql_operations_total",
      help: "GraphQL operations by operation name and type",
      labelNames: ["operation", "type"] as const,
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: "glider_graphql_operation_duration_seconds",
      help: "GraphQL execution time by operation name and type (subscriptions: until the first result)",
      labelNames: ["operation", "type"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    graphqlErrors: new Counter({
      name: "glider_graphql_errors_total",
      help: "GraphQL errors by operation name, type and error code",
      labelNames: ["operation", "type", "code"] as const,
      registers: [registry],
    }),
    storageCalls: new Counter({
      name: "glider_storage_calls_total",
      help: "Object store calls by backend, operation and outcome",
      labelNames: ["backend", "operation", "outcome"] as const,
      registers: [registry],
    }),
    storageDuration: new Histogram({
      name: "glider_storage_call_duration_seconds",
      help: "Object store call latency",
      labelNames: ["backend", "operation"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    reconstructionBytes: new Counter({
      name: "glider_reconstruction_bytes_total",
      help: "Bytes of original files rebuilt from deltas",
      registers: [registry],
    }),
    encoderFallbacks: new Counter({
      name: "glider_encoder_fallbacks_total",
      help: "Uploads stored as direct files because their delta failed its proof (an encoder bug: see the error log)",
      registers: [registry],
    }),
    conditionalWrites: new Gauge({
      name: "glider_storage_conditional_writes",
      help: "1 when the object store enforces the conditional write (if_none_match, if_match), 0 when it ignores it; probed at first use",
      labelNames: ["backend", "condition"] as const,
      registers: [registry],
    }),
    jobs: new Gauge({
      name: "glider_jobs",
      help: "Background jobs by kind and state",
      labelNames: ["kind", "state"] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
