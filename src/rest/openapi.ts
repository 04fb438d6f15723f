import { readFileSync } from "node:fs";
import swagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";

// openapi.yaml is printed from the route schemas (`npm run openapi`, src/tools/openapi.ts); this file holds what
// belongs to the document rather than to a route: info, servers, tags, security schemes, and the few rewrites
// swagger needs to describe our routes as clients call them.

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const document = {
  openapi: "3.1.0",
  info: {
    title: "Glider REST API",
    version: pkg.version,
    description:
      "RFC-DG-UI-0001 (DeltaGlider browsing) and the Send transfer API. JSON is snake_case, sizes are integer " +
      'bytes, errors use one envelope. Keys in paths may contain "/" and are percent-encoded per segment. ' +
      "Generated from the route schemas (src/rest) by `npm run openapi`.",
  },
  // Relative: the API is served by the server that serves this document (any host, port or scheme).
  servers: [{ url: "/" }],
  tags: [
    { name: "Health", description: "Liveness, readiness and Prometheus metrics (no credentials)" },
    { name: "Sessions", description: "Commander UI sign-in; the session cookie selects the storage connection" },
    { name: "Buckets", description: "DeltaGlider buckets and their savings figures" },
    { name: "Objects", description: "Logical objects (browse, upload, delete)" },
    { name: "Downloads", description: "Verified streaming downloads by signed token" },
    {
      name: "Send transfers",
      description: "Send: encrypted transfers, public by transfer id, created with a sender token",
    },
    { name: "Send admin", description: "Send: sender tokens, statistics and the audit trail (admin key)" },
  ],
  components: {
    securitySchemes: {
      senderToken: {
        type: "http" as const,
        scheme: "bearer",
        description: "gst_<id>.<secret> from /api/admin/tokens/create",
      },
      adminKey: { type: "apiKey" as const, in: "header", name: "x-admin-key" },
      adminCookie: { type: "apiKey" as const, in: "cookie", name: "glider_admin_key" },
      // Optional on the browse routes (the server's own store without it), required with REQUIRE_SESSION.
      session: { type: "apiKey" as const, in: "cookie", name: "glider_session" },
    },
  },
};

const KEY_PARAM = { type: "string", description: 'Logical key; may contain "/".' };

type Operation = { "x-body-optional"?: boolean; requestBody?: { required?: boolean } };

/** Registers @fastify/swagger on the root, before any route, so it records every route as it registers. */
export async function registerOpenapi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: document,
    // OpenAPI 3.1 has `const`; keep it as the schemas say it.
    convertConstToEnum: false,
    transform: ({ schema, url, route }) => {
      // GraphQL (and its WebSocket) is described by schema.graphql, not here.
      if (url.startsWith("/graphql")) return { schema: { ...schema, hide: true }, url };
      let out = { schema, url };
      // `/objects/:bucket/*`: the wildcard is a logical key, shown as `{key}` (plus what follows it).
      const keyPath = route.config?.openapiKeyPath;
      if (keyPath) {
        const params = schema.params as { properties: Record<string, unknown>; required?: string[] };
        const { "*": _wildcard, ...named } = params.properties;
        out = {
          url: url.replace(/\*$/, keyPath),
          schema: {
            ...schema,
            params: {
              ...params,
              properties: { ...named, key: KEY_PARAM },
              required: [...(params.required ?? []).filter((p) => p !== "*"), "key"],
            },
          },
        };
      }
      // A stream or form the route parses itself: described, never validated by fastify.
      const body = route.config?.openapiBody;
      if (body) out = { ...out, schema: { ...out.schema, body } };
      return out;
    },
    transformObject: (documentObject) => {
      const openapi = (documentObject as { openapiObject: { paths?: Record<string, Record<string, Operation>> } })
        .openapiObject;
      for (const item of Object.values(openapi.paths ?? {})) {
        for (const operation of Object.values(item)) {
          if (!operation["x-body-optional"]) continue;
          delete operation["x-body-optional"];
          if (operation.requestBody) operation.requestBody.required = false;
        }
      }
      return openapi;
    },
  });
}
