/** `GET /healthz`: liveness for the local stack and load balancers (no auth, no storage calls). */
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../shared.ts";

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["meta"],
  summary: "Liveness",
  responses: {
    200: {
      description: "The Worker runs and its configuration is valid.",
      content: { "application/json": { schema: z.object({ ok: z.literal(true), environment: z.string() }) } },
    },
  },
});

export function registerHealth(app: App) {
  app.openapi(healthRoute, (c) => c.json({ ok: true as const, environment: c.var.config.environment }, 200));
}
