/**
 * Consumer of MSG_DELIVER_WEBHOOK (queue vidsnap-webhooks): one try of the named delivery. Only a failed try
 * with tries left is retried, after the delay the delivery row records as its next try; everything else
 * (succeeded, failed for good, finished or in flight elsewhere, gone, invalid) is acked. D1 failures throw
 * and the caller retries the message.
 */
import { DeliverWebhookMessage } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { deliverWebhook } from "../services/webhooks/deliver-webhook.ts";
import { parseOrDrop } from "./parse-message.ts";

/** Handles one delivery message; acks or retries it itself. */
export async function consumeWebhook(message: Message<unknown>, deps: Deps): Promise<void> {
  const msg = parseOrDrop(DeliverWebhookMessage, message, deps, "MSG_DELIVER_WEBHOOK");
  if (!msg) return;
  const { deliveryId, endpointId, eventId } = msg.payload;
  const log = deps.log.child({ deliveryId, webhookId: endpointId, eventId });
  const outcome = await deliverWebhook({ ...deps, log }, msg.payload);
  if (outcome.kind === "retry") {
    message.retry({ delaySeconds: outcome.delaySeconds });
    return;
  }
  if (outcome.kind === "skipped") log.info("webhook delivery skipped", { reason: outcome.reason });
  message.ack();
}
