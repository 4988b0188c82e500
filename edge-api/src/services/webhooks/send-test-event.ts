/**
 * `POST /v1/webhooks/{id}/test`: queues a `ping` event to one endpoint through the normal delivery path
 * (row, queue, signed POST), so a receiver can be checked before real events flow. A ping gets exactly one
 * try, never retried (deliver-webhook.ts `maxTries`): it checks the receiver now, and retries would let test
 * calls multiply into many POSTs to a URL of the caller's choice. It counts against the endpoint's cap on
 * waiting deliveries (./pending-cap.ts) like any event. The body is `{id, type: "ping", createdAt, data:
 * {webhookId}}`.
 */
import { eq } from "drizzle-orm";
import type { WebhookDelivery, WebhookEventBody } from "../../../../schema/api.ts";
import { webhookDeliveries } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { webhookDeliveryStore } from "./delivery-store.ts";
import { deliveryMessage } from "./enqueue-video-event.ts";
import { getWebhookRow } from "./get-webhook.ts";
import { cappedDeliveryColumns } from "./pending-cap.ts";
import { toWebhookDelivery } from "./serialize.ts";

/**
 * @returns the new delivery: `pending`, or `failed` and not queued when the endpoint is at its cap of
 *   waiting deliveries
 * @throws ProblemError `not-found` (404) for another user's or a missing endpoint; `service-unavailable`
 *   (503) when the queue refused the message (the delivery is then marked failed)
 */
export async function sendTestEvent(deps: Deps, userId: string, endpointId: string): Promise<WebhookDelivery> {
  await getWebhookRow(deps, userId, endpointId);
  const now = new Date();
  const eventId = "evt_" + crypto.randomUUID().replace(/-/g, "");
  const body: WebhookEventBody = { id: eventId, type: "ping", createdAt: now.toISOString(), data: { webhookId: endpointId } };
  const [row] = await deps.db
    .insert(webhookDeliveries)
    .values({
      id: crypto.randomUUID(),
      endpointId,
      userId,
      eventId,
      eventType: "ping",
      payload: JSON.stringify(body),
      ...cappedDeliveryColumns(endpointId, now),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (row!.status !== "pending") {
    deps.log.warn("webhook ping not queued: too many deliveries waiting", { webhookId: endpointId, deliveryId: row!.id, eventId });
    return toWebhookDelivery(row!);
  }
  try {
    await deps.env.WEBHOOK_QUEUE.send(deliveryMessage(row!));
  } catch (err) {
    await webhookDeliveryStore.settle(deps.db, eq(webhookDeliveries.id, row!.id), {
      sent: false,
      error: "the delivery could not be queued",
    });
    throw new ProblemError("service-unavailable", "The delivery queue is unavailable; try again later.", { cause: err });
  }
  deps.log.info("webhook ping queued", { webhookId: endpointId, deliveryId: row!.id, eventId });
  return toWebhookDelivery(row!);
}
