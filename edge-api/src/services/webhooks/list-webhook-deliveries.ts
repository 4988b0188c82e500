/**
 * The delivery log of one endpoint (`GET /v1/webhooks/{id}/deliveries`), newest first (created_at desc,
 * id desc), with the keyset cursor of `GET /v1/videos` (services/videos/list-videos.ts) and an optional
 * status filter. Each delivery carries every try's outcome.
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { ListWebhookDeliveriesQuery, WebhookDeliveryList } from "../../../../schema/api.ts";
import { webhookDeliveries } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { decodeCursor, encodeCursor } from "../videos/list-videos.ts";
import { getWebhookRow } from "./get-webhook.ts";
import { toWebhookDelivery } from "./serialize.ts";

/**
 * @param query validated query: `limit` 1..100, optional `cursor` and `status`
 * @returns one page and the cursor of the next (null on the last page)
 * @throws ProblemError `not-found` (404) when `userId` has no such endpoint; `validation` (400) for a bad cursor
 */
export async function listWebhookDeliveries(
  deps: Deps,
  userId: string,
  endpointId: string,
  query: ListWebhookDeliveriesQuery,
): Promise<WebhookDeliveryList> {
  await getWebhookRow(deps, userId, endpointId);
  const conditions: SQL[] = [eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.userId, userId)];
  if (query.status) conditions.push(eq(webhookDeliveries.status, query.status));
  if (query.cursor) {
    const cursor = decodeCursor(query.cursor);
    const at = new Date(cursor.c);
    conditions.push(
      or(lt(webhookDeliveries.createdAt, at), and(eq(webhookDeliveries.createdAt, at), lt(webhookDeliveries.id, cursor.i)))!,
    );
  }
  const rows = await deps.db
    .select()
    .from(webhookDeliveries)
    .where(and(...conditions))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toWebhookDelivery),
    nextCursor: rows.length > query.limit && last ? encodeCursor({ c: last.createdAt.getTime(), i: last.id }) : null,
  };
}
