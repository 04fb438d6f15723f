import { resolveHealth } from "../resolvers/health.js";
import type { Readiness } from "../services/health.js";
import { builder } from "./builder.js";

type HealthShape = Readiness & { status: "ok" };

const Health = builder.objectRef<HealthShape>("Health").implement({
  description: "Liveness and readiness of this Glider instance",
  fields: (t) => ({
    status: t.exposeString("status", { description: "Always `ok` when this instance answers" }),
    ready: t.exposeBoolean("ready", { description: "The object store answers" }),
    storageBackend: t.string({
      description: "The object store in use: `s3`, `fs` or `memory`",
      resolve: (h) => h.checks.storage.backend,
    }),
  }),
});

// Query#health
builder.queryField("health", (t) =>
  t.field({
    type: Health,
    description: "Liveness and readiness of this instance; no credentials needed",
    resolve: (_root, _args, ctx) => resolveHealth(ctx),
  }),
);
