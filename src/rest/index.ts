import type { FastifyInstance } from "fastify";
import { sendUiIndex } from "../http/ui.js";
import { STATUS_BY_CODE } from "../services/errors.js";
import type { Services } from "../services/index.js";
import { authRoutes } from "./auth.js";
import { bucketRoutes } from "./browse/buckets.js";
import { downloadRoutes } from "./browse/downloads.js";
import { objectRoutes } from "./browse/objects.js";
import { envelope } from "./errors.js";
import { healthRoutes } from "./health.js";
import { adminRoutes } from "./send/admin.js";
import { transfersRoutes } from "./send/transfers.js";

/** The REST shim: each group is an encapsulated plugin that only translates HTTP to service calls. */
export async function restPlugin(app: FastifyInstance, { services }: { services: Services }) {
  await app.register(healthRoutes, { services });
  await app.register(authRoutes, { services, prefix: "/api" });
  await app.register(bucketRoutes, { services, prefix: "/api" });
  await app.register(objectRoutes, { services, prefix: "/api" });
  await app.register(downloadRoutes, { services, prefix: "/api" });
  // Send can be split across deployments: SEND_SURFACE=public|admin|both.
  const surface = services.config.send.surface;
  if (surface !== "admin") await app.register(transfersRoutes, { services, prefix: "/api" });
  if (surface !== "public") await app.register(adminRoutes, { services, prefix: "/api/admin" });
  app.setNotFoundHandler((request, reply) => {
    if (sendUiIndex(request, reply)) return reply;
    return reply
      .status(STATUS_BY_CODE.not_found)
      .send(envelope("not_found", `no route for ${request.method} ${request.url.split("?")[0]}`));
  });
}
