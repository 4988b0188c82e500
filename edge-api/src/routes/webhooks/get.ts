/** `GET /v1/webhooks/{id}`: one webhook endpoint (never its secret). */
import { createRoute } from "@hono/zod-openapi";
import { WebhookEnvelope, WebhookIdParams } from "../../../../schema/api.ts";
import { getWebhookRow } from "../../services/webhooks/get-webhook.ts";
import { toWebhookEndpoint } from "../../services/webhooks/serialize.ts";
import { BEARER, problems, type App } from "../shared.ts";

/** 404 of the webhook routes: another user's endpoint answers the same. */
export const WEBHOOK_NOT_FOUND = { ...problems(404)[404], description: "No such webhook for this user (`not-found`)." };

export const getWebhookRoute = createRoute({
  method: "get",
  path: "/v1/webhooks/{id}",
  operationId: "getWebhook",
  tags: ["webhooks"],
  summary: "Get a webhook endpoint",
  security: BEARER,
  request: { params: WebhookIdParams },
  responses: {
    200: { description: "The endpoint.", content: { "application/json": { schema: WebhookEnvelope } } },
    ...problems(401),
    404: WEBHOOK_NOT_FOUND,
  },
});

export function registerGetWebhook(app: App) {
  app.openapi(getWebhookRoute, async (c) => {
    const row = await getWebhookRow(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.json({ webhook: toWebhookEndpoint(row) }, 200);
  });
}
