/**
 * Message family MSG_DELIVER_WEBHOOK: API → webhook sender (the edge-api consumer of vidsnap-webhooks),
 * one per webhook delivery row (`webhook_deliveries`, schema/db.ts). The row, written before the message,
 * holds the body to send and the state of the delivery; the message only names it, so a redelivered or
 * duplicated message finds the row already succeeded and sends nothing.
 */
import { z } from "zod";
import { API_SERVICE, envelope, envelopeBuilder, WEBHOOK_SERVICE } from "./envelope.ts";

/** Event types a webhook endpoint can subscribe to (docs/webhooks.md). */
export const WEBHOOK_EVENT_TYPES = [
  "video.ready",
  "video.failed",
  "video.import_failed",
  "video.generation_failed",
  "transcode.ready",
  "transcode.failed",
] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** API → webhook sender: send (or retry) one delivery. */
export const DeliverWebhookMessage = envelope(
  "MSG_DELIVER_WEBHOOK",
  [API_SERVICE],
  WEBHOOK_SERVICE,
  z.object({
    deliveryId: z.string().min(1),
    endpointId: z.string().min(1),
    userId: z.string().min(1),
    /** `evt_…` of the event (for logs; the row is the source of truth). */
    eventId: z.string().min(1),
  }),
);
export type DeliverWebhookMessage = z.infer<typeof DeliverWebhookMessage>;

export const deliverWebhookMessage = envelopeBuilder(DeliverWebhookMessage);
