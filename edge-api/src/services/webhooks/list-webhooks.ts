/** Lists a user's webhook endpoints, newest first (at most MAX_WEBHOOKS_PER_USER, so no pagination). */
import { desc, eq } from "drizzle-orm";
import type { WebhookEndpointList } from "../../../../schema/api.ts";
import { webhookEndpoints } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { MAX_WEBHOOKS_PER_USER } from "./create-webhook.ts";
import { toWebhookEndpoint } from "./serialize.ts";

/** @returns `{data}`: every endpoint of `userId` */
export async function listWebhooks(deps: Deps, userId: string): Promise<WebhookEndpointList> {
  const rows = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.userId, userId))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(MAX_WEBHOOKS_PER_USER);
  return { data: rows.map(toWebhookEndpoint) };
}
