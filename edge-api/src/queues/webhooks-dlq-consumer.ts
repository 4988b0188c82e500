/**
 * Consumer of the webhook dead-letter queue (vidsnap-webhooks-dlq): a MSG_DELIVER_WEBHOOK that used up the
 * queue's deliveries without being acked (e.g. D1 kept failing) will never be tried again, so its delivery
 * is failed if still pending. D1 failures throw and the caller retries the message.
 */
import { DeliverWebhookMessage } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { failDeadLetteredDelivery } from "../services/webhooks/fail-dead-lettered-delivery.ts";
import { parseOrDrop } from "./parse-message.ts";

/** Handles one dead-lettered delivery message; acks it, or throws for a retry. */
export async function consumeWebhookDeadLetter(message: Message<unknown>, deps: Deps): Promise<void> {
  const msg = parseOrDrop(DeliverWebhookMessage, message, deps, "dead-lettered MSG_DELIVER_WEBHOOK");
  if (!msg) return;
  const failed = await failDeadLetteredDelivery(deps, msg.payload);
  deps.log.warn("dead-lettered webhook delivery handled", {
    deliveryId: msg.payload.deliveryId,
    webhookId: msg.payload.endpointId,
    markedFailed: failed,
  });
  message.ack();
}
