/**
 * Consumer of MSG_DELIVER_WEBHOOK (queue vidsnap-webhooks): one try of the named delivery
 * (services/webhooks/deliver-webhook.ts). Succeeded, finally failed, already finished, in flight elsewhere
 * or gone → acked. A failed try with tries left → `message.retry({delaySeconds})` with the exponential
 * backoff 30·2^(n−1) s capped at 3600 s (the delivery row records the try and its next_attempt_at).
 * Invalid messages are logged and acked; D1 failures throw and the caller retries the message.
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
