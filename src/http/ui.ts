import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Paths that belong to the API and operations: never answered with the UI's index.html. */
const RESERVED = ["/api/", "/api", "/graphql", "/health", "/ready", "/metrics"];

function reserved(url: string): boolean {
  const path = url.split("?")[0];
  return RESERVED.some((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`));
}

/**
 * Serves a built single-page UI (UI_DIR, e.g. the Commander's `frontend/dist`) at `/`, as the Commander's own
 * backend does: files as they are, `index.html` for any other GET outside the API (client-side routes).
 */
export async function registerUi(app: FastifyInstance, uiDir: string) {
  const root = resolve(uiDir);
  await access(join(root, "index.html")).catch(() => {
    throw new Error(`UI_DIR: ${root} has no index.html (build the UI first)`);
  });
  await app.register(fastifyStatic, {
    root,
    prefix: "/",
    wildcard: true,
    index: ["index.html"],
    setHeaders(res, path) {
      // Vite names assets by content hash; index.html must be revalidated to pick up a new build.
      res.setHeader("cache-control", path.endsWith("index.html") ? "no-cache" : "public, max-age=31536000, immutable");
    },
  });
}

/** For the 404 handler: answers a client-side route with index.html; false when the request is not one. */
export function sendUiIndex(request: FastifyRequest, reply: FastifyReply): boolean {
  if (!reply.sendFile || (request.method !== "GET" && request.method !== "HEAD") || reserved(request.url)) {
    return false;
  }
  reply.header("cache-control", "no-cache");
  void reply.type("text/html; charset=utf-8").sendFile("index.html");
  return true;
}
