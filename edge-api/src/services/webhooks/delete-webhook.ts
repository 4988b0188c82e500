/**
 * Deletes a user's webhook endpoint and (by the foreign key's cascade) its delivery log. Messages of its
 * deliveries still in the queue find no row and are acked without sending.
 */
import { and, eq } from "drizzle-orm";
import { webhookEndpoints } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";

/** @throws ProblemError `not-found` (404) when `userId` has no such endpoint */
export async function deleteWebhook(deps: Deps, userId: string, endpointId: string): Promise<void> {
  const deleted = await deps.db
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.userId, userId)))
    .returning({ id: webhookEndpoints.id });
  if (deleted.length === 0) throw new ProblemError("not-found", `No webhook ${endpointId}.`);
  deps.log.info("webhook deleted", { webhookId: endpointId, userId });
}
