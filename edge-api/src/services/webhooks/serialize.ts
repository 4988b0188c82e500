/**
 * Maps `webhook_endpoints` / `webhook_deliveries` rows to the API's `WebhookEndpoint` and
 * `WebhookDelivery` (schema/api.ts): epoch-ms times become ISO strings; the secret never leaves.
 */
import type { WebhookDelivery, WebhookEndpoint } from "../../../../schema/api.ts";
import type { webhookDeliveries, webhookEndpoints } from "../../../../schema/db.ts";
import { WebhookEventType } from "../../../../schema/messages/index.ts";

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

/** @returns the endpoint as the API shows it (unknown stored event types are left out) */
export function toWebhookEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events.filter((e): e is WebhookEventType => WebhookEventType.safeParse(e).success),
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
  };
}

/** @returns the delivery with its tries, as `GET /v1/webhooks/{id}/deliveries` shows it */
export function toWebhookDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.endpointId,
    eventId: row.eventId,
    eventType: row.eventType as WebhookDelivery["eventType"],
    videoId: row.videoId,
    transcodeId: row.jobId === "" ? null : row.jobId,
    videoAttempt: row.attempt,
    status: row.status,
    attemptsMade: row.attemptsMade,
    lastResponseStatus: row.lastResponseStatus,
    lastError: row.lastError,
    nextAttemptAt: row.status === "pending" && row.nextAttemptAt ? row.nextAttemptAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    deliveredAt: row.deliveredAt ? row.deliveredAt.toISOString() : null,
    attempts: row.attemptLog,
  };
}
