/** `DELETE /v1/webhooks/{id}`: remove an endpoint and its delivery log. */
import { createRoute } from "@hono/zod-openapi";
import { WebhookIdParams } from "../../../../schema/api.ts";
import { deleteWebhook } from "../../services/webhooks/delete-webhook.ts";
import { WEBHOOK_NOT_FOUND } from "./get.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const deleteWebhookRoute = createRoute({
  method: "delete",
  path: "/v1/webhooks/{id}",
  operationId: "deleteWebhook",
  tags: ["webhooks"],
  summary: "Delete a webhook endpoint",
  description: "No further events are sent to it (deliveries still queued are dropped); its delivery log is deleted too.",
  security: BEARER,
  request: { params: WebhookIdParams },
  responses: {
    204: { description: "Deleted." },
    ...problems(401, 403),
    404: WEBHOOK_NOT_FOUND,
  },
});

export function registerDeleteWebhook(app: App) {
  app.openapi(deleteWebhookRoute, async (c) => {
    await deleteWebhook(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
