/**
 * The `webhook_deliveries` table as a delivery store (runtime/delivery-store.ts). A row is written
 * `pending` before its message is queued; a try claims it by setting `locked_until`, then settles it:
 * `succeeded`, `pending` again with `next_attempt_at`, or `failed`. `succeeded` and `failed` are final.
 */
import { and, eq, type SQL } from "drizzle-orm";
import { deliveryStore } from "../../../../runtime/delivery-store.ts";
import { webhookDeliveries } from "../../../../schema/db.ts";

/** Longest stored error of a try, characters. */
export const MAX_ERROR_LENGTH = 200;

export const webhookDeliveryStore = deliveryStore({
  table: webhookDeliveries,
  status: "status",
  final: ["succeeded", "failed"],
  sent: "succeeded",
  retry: "pending",
  failed: "failed",
  lease: { until: "lockedUntil" },
  updatedAt: "updatedAt",
  lastError: "lastError",
  maxErrorLength: MAX_ERROR_LENGTH,
  nextTryAt: "nextAttemptAt",
});

/** Names the delivery (the MSG_DELIVER_WEBHOOK payload); the row must match all three. */
export interface DeliveryRef {
  deliveryId: string;
  endpointId: string;
  userId: string;
}

/** The condition selecting the row `ref` names. */
export function deliveryWhere(ref: DeliveryRef): SQL {
  return and(
    eq(webhookDeliveries.id, ref.deliveryId),
    eq(webhookDeliveries.endpointId, ref.endpointId),
    eq(webhookDeliveries.userId, ref.userId),
  )!;
}
