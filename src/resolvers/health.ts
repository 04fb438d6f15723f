import type { Readiness } from "../services/health.js";
import type { GraphQLContext } from "./context.js";

export async function resolveHealth(ctx: GraphQLContext): Promise<Readiness & { status: "ok" }> {
  return { status: "ok", ...(await ctx.services.health.ready()) };
}
