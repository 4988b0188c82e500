/**
 * Ends a delivery whose queue message was dead-lettered (vidsnap-webhooks-dlq: the message used up the
 * queue's max_retries, e.g. because D1 kept failing while it was handled): a still `pending` row becomes
 * `failed` with a last error saying so; a delivery that succeeded or failed meanwhile is left as it is.
 */
import type { Deps } from "../../context.ts";
import { deliveryWhere, webhookDeliveryStore, type DeliveryRef } from "./delivery-store.ts";

export const DEAD_LETTERED_ERROR = "the delivery message was dead-lettered: queue retries ran out";

/** @returns true when a pending delivery was marked failed */
export async function failDeadLetteredDelivery(deps: Deps, ref: DeliveryRef): Promise<boolean> {
  return webhookDeliveryStore.settle(deps.db, deliveryWhere(ref), { sent: false, error: DEAD_LETTERED_ERROR });
}
