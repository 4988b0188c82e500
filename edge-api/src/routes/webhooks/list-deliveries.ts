/** `GET /v1/webhooks/{id}/deliveries`: the endpoint's delivery log, newest first, with every try. */
import { createRoute } from "@hono/zod-openapi";
import { ListWebhookDeliveriesQuery, WebhookDeliveryList, WebhookIdParams } from "../../../../schema/api.ts";
import { listWebhookDeliveries } from "../../services/webhooks/list-webhook-deliveries.ts";
import { WEBHOOK_NOT_FOUND } from "./get.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listWebhookDeliveriesRoute = createRoute({
  method: "get",
  path: "/v1/webhooks/{id}/deliveries",
  operationId: "listWebhookDeliveries",
  tags: ["webhooks"],
  summary: "List an endpoint's deliveries",
  description: "Newest first. Pass `nextCursor` as `cursor` for the next page; filter with `status`.",
  security: BEARER,
  request: { params: WebhookIdParams, query: ListWebhookDeliveriesQuery },
  responses: {
    200: { description: "A page of deliveries.", content: { "application/json": { schema: WebhookDeliveryList } } },
    ...problems(400, 401),
    404: WEBHOOK_NOT_FOUND,
  },
});

export function registerListWebhookDeliveries(app: App) {
  app.openapi(listWebhookDeliveriesRoute, async (c) => {
    const page = await listWebhookDeliveries(c.var.deps, c.var.user.id, c.req.valid("param").id, c.req.valid("query"));
    return c.json(page, 200);
  });
}
