/**
 * Ends a delivery whose queue message was dead-lettered (vidsnap-webhooks-dlq: the message used up the
 * queue's max_retries, e.g. because D1 kept failing while it was handled): a still `pending` row becomes
 * `failed` with a last error saying so; a delivery that succeeded or failed meanwhile is left as it is.
 */
import { and, eq } from "drizzle-orm";
import { webhookDeliveries } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import type { DeliveryRef } from "./deliver-webhook.ts";

export const DEAD_LETTERED_ERROR = "the delivery message was dead-lettered: queue retries ran out";

/** @returns true when a pending delivery was marked failed */
export async function failDeadLetteredDelivery(deps: Deps, ref: DeliveryRef): Promise<boolean> {
  const now = new Date();
  const updated = await deps.db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: DEAD_LETTERED_ERROR, lockedUntil: null, nextAttemptAt: null, updatedAt: now })
    .where(
      and(
        eq(webhookDeliveries.id, ref.deliveryId),
        eq(webhookDeliveries.endpointId, ref.endpointId),
        eq(webhookDeliveries.userId, ref.userId),
        eq(webhookDeliveries.status, "pending"),
      ),
    )
    .returning({ id: webhookDeliveries.id });
  return updated.length > 0;
}
