/** `POST /v1/webhooks`: register an endpoint; its signing secret is answered once. */
import { createRoute } from "@hono/zod-openapi";
import { CreateWebhookRequest, WebhookWithSecret } from "../../../../schema/api.ts";
import { createWebhook } from "../../services/webhooks/create-webhook.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const createWebhookRoute = createRoute({
  method: "post",
  path: "/v1/webhooks",
  operationId: "createWebhook",
  tags: ["webhooks"],
  summary: "Register a webhook endpoint",
  description:
    "vidsnap POSTs a signed JSON event to `url` when a video's extraction succeeds (`video.ready`) or fails (`video.failed`); see docs/webhooks.md for the payload, headers, retries and signature verification. The `secret` is shown only in this answer. At most 10 endpoints per user (409 beyond); creations are rate-limited per user (429 beyond: 10 a minute in production).",
  security: BEARER,
  request: { body: { required: true, content: { "application/json": { schema: CreateWebhookRequest } } } },
  responses: {
    201: { description: "Registered; keep `secret`.", content: { "application/json": { schema: WebhookWithSecret } } },
    ...problems(400, 401, 403, 429),
    409: { ...problems(409)[409], description: "The user already has 10 endpoints (`conflict`)." },
  },
});

export function registerCreateWebhook(app: App) {
  app.openapi(createWebhookRoute, async (c) => {
    return c.json(await createWebhook(c.var.deps, c.var.user.id, c.req.valid("json")), 201);
  });
}
