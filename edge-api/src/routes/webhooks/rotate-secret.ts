/** `POST /v1/webhooks/{id}/rotate-secret`: replace the signing secret; the new one is answered once. */
import { createRoute } from "@hono/zod-openapi";
import { WebhookIdParams, WebhookWithSecret } from "../../../../schema/api.ts";
import { rotateWebhookSecret } from "../../services/webhooks/rotate-webhook-secret.ts";
import { WEBHOOK_NOT_FOUND } from "./get.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const rotateWebhookSecretRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/{id}/rotate-secret",
  operationId: "rotateWebhookSecret",
  tags: ["webhooks"],
  summary: "Rotate a webhook's signing secret",
  description: "Every try from now on (retries of older deliveries included) is signed with the new secret; the old one stops at once. Rotations are rate-limited per user (429 beyond: 10 a minute in production).",
  security: BEARER,
  request: { params: WebhookIdParams },
  responses: {
    200: { description: "The new secret; keep it.", content: { "application/json": { schema: WebhookWithSecret } } },
    ...problems(401, 403),
    404: WEBHOOK_NOT_FOUND,
    ...problems(429),
  },
});

export function registerRotateWebhookSecret(app: App) {
  app.openapi(rotateWebhookSecretRoute, async (c) => {
    return c.json(await rotateWebhookSecret(c.var.deps, c.var.user.id, c.req.valid("param").id), 200);
  });
}
