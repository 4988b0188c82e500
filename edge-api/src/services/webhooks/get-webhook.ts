/** Reads one webhook endpoint of one user; another user's endpoint is indistinguishable from a missing one (404). */
import { and, eq } from "drizzle-orm";
import { webhookEndpoints } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import type { WebhookEndpointRow } from "./serialize.ts";

/**
 * @returns the row owned by `userId`
 * @throws ProblemError `not-found` (404) when there is none
 */
export async function getWebhookRow(deps: Deps, userId: string, endpointId: string): Promise<WebhookEndpointRow> {
  const [row] = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.userId, userId)))
    .limit(1);
  if (!row) throw new ProblemError("not-found", `No webhook ${endpointId}.`);
  return row;
}
