/** `GET /v1/webhooks`: the user's webhook endpoints (never their secrets). */
import { createRoute } from "@hono/zod-openapi";
import { WebhookEndpointList } from "../../../../schema/api.ts";
import { listWebhooks } from "../../services/webhooks/list-webhooks.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listWebhooksRoute = createRoute({
  method: "get",
  path: "/v1/webhooks",
  operationId: "listWebhooks",
  tags: ["webhooks"],
  summary: "List webhook endpoints",
  description: "Every endpoint of the user (at most 10), newest first.",
  security: BEARER,
  responses: {
    200: { description: "The endpoints.", content: { "application/json": { schema: WebhookEndpointList } } },
    ...problems(401),
  },
});

export function registerListWebhooks(app: App) {
  app.openapi(listWebhooksRoute, async (c) => c.json(await listWebhooks(c.var.deps, c.var.user.id), 200));
}
