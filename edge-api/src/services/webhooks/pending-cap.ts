/**
 * The cap on waiting deliveries per endpoint. An endpoint that is down keeps every delivery `pending` for
 * about 3 hours of retries; without a cap a busy account (or a flood of test pings) would pile up retries
 * against one URL without bound. A new delivery for an endpoint that already has
 * {@link MAX_PENDING_DELIVERIES_PER_ENDPOINT} deliveries waiting (`pending`: queued or between retries) is
 * written `failed` with {@link PENDING_CAP_ERROR} and never sent: it stays visible in the delivery log,
 * where a dropped event would not.
 *
 * The count and the insert are one SQL statement, so concurrent inserts cannot overshoot the cap. Only rows
 * created in the last {@link PENDING_CAP_WINDOW_MS} count: every delivery settles within ~3 h of its
 * creation (docs/webhooks.md, Retries), so an older `pending` row is stuck (its sender died between the
 * POST and the settlement) and must not close the endpoint for good.
 */
import { sql, type SQL } from "drizzle-orm";
import { webhookDeliveries } from "../../../../schema/db.ts";

/** Deliveries of one endpoint that may wait (pending or retrying) at once. */
export const MAX_PENDING_DELIVERIES_PER_ENDPOINT = 100;
/** Waiting rows older than this are not counted, ms (one day: far past the last retry). */
export const PENDING_CAP_WINDOW_MS = 24 * 3600 * 1000;
/** `lastError` of a delivery refused by the cap. */
export const PENDING_CAP_ERROR = `not sent: the endpoint already has ${MAX_PENDING_DELIVERIES_PER_ENDPOINT} deliveries waiting (it is failing or slow)`;

/**
 * The `status` and `lastError` of a new delivery row for `endpointId`, as SQL evaluated by the insert
 * itself: `pending`/null under the cap, `failed`/{@link PENDING_CAP_ERROR} at or over it.
 * @param now the new row's creation time
 */
export function cappedDeliveryColumns(endpointId: string, now: Date): { status: SQL<"pending" | "failed">; lastError: SQL<string | null> } {
  // `status = 'pending'` is a literal, not a parameter, so SQLite can use the partial index on pending rows.
  const overCap = sql`(SELECT count(*) FROM ${webhookDeliveries} WHERE ${webhookDeliveries.endpointId} = ${endpointId} AND ${webhookDeliveries.status} = 'pending' AND ${webhookDeliveries.createdAt} > ${now.getTime() - PENDING_CAP_WINDOW_MS}) >= ${MAX_PENDING_DELIVERIES_PER_ENDPOINT}`;
  return {
    status: sql<"pending" | "failed">`(CASE WHEN ${overCap} THEN 'failed' ELSE 'pending' END)`,
    lastError: sql<string | null>`(CASE WHEN ${overCap} THEN ${PENDING_CAP_ERROR} END)`,
  };
}
