/** `POST /v1/webhooks/{id}/test`: send a signed `ping` event (one try) to the endpoint through the delivery queue. */
import { createRoute } from "@hono/zod-openapi";
import { WebhookDeliveryEnvelope, WebhookIdParams } from "../../../../schema/api.ts";
import { sendTestEvent } from "../../services/webhooks/send-test-event.ts";
import { WEBHOOK_NOT_FOUND } from "./get.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const testWebhookRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/test",
  operationId: "testWebhook",
  tags: ["webhooks"],
  summary: "Send a test event",
  description:
    "Queues a `ping` event (`data.webhookId`), signed like real events but tried once, never retried; follow it in `GET /v1/webhooks/{id}/deliveries`. When the endpoint already has 100 deliveries waiting, the ping is recorded `failed` and not sent. Tests are rate-limited per user (429 beyond: 10 a minute in production).",
  security: BEARER,
  request: { params: WebhookIdParams },
  responses: {
    202: { description: "Queued (or, at the endpoint's cap of waiting deliveries, recorded `failed`).", content: { "application/json": { schema: WebhookDeliveryEnvelope } } },
    ...problems(401, 403),
    404: WEBHOOK_NOT_FOUND,
    ...problems(429, 503),
  },
});

export function registerTestWebhook(app: App) {
  app.openapi(testWebhookRoute, async (c) => {
    const delivery = await sendTestEvent(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.json({ delivery }, 202);
  });
}
