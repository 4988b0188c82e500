/**
 * The request of each generation as a delivery store (runtime/delivery-store.ts), like `webhook_deliveries`
 * (../webhooks/delivery-store.ts): `generations.status` is `pending` until the generator answered 2xx
 * (`succeeded`) or the tries ran out (`failed`, final); a try claims the row by setting `locked_until`.
 */
import { and, eq, type SQL } from "drizzle-orm";
import { deliveryStore } from "../../../../runtime/delivery-store.ts";
import { generations } from "../../../../schema/db.ts";
import { MAX_ERROR_LENGTH } from "../webhooks/delivery-store.ts";

export const generationRequestStore = deliveryStore({
  table: generations,
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

/** The condition selecting one generation of one user. */
export function generationWhere(ref: { generationId: string; userId: string }): SQL {
  return and(eq(generations.id, ref.generationId), eq(generations.userId, ref.userId))!;
}
