/** `GET /healthz`: liveness for the local stack and load balancers (no auth, no storage calls). */
import { createRoute, z } from "@hono/zod-openapi";
import { problems, PUBLIC, type App } from "../shared.ts";

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  operationId: "getHealth",
  tags: ["meta"],
  summary: "Liveness",
  security: PUBLIC,
  responses: {
    200: {
      description: "The Worker runs and its configuration is valid.",
      content: { "application/json": { schema: z.object({ ok: z.literal(true), environment: z.string() }) } },
    },
    500: { ...problems(500)[500], description: "The configuration is invalid (`server-misconfigured`)." },
  },
});

export function registerHealth(app: App) {
  app.openapi(healthRoute, (c) => c.json({ ok: true as const, environment: c.var.config.environment }, 200));
}
