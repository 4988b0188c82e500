/**
 * Replaces an endpoint's signing secret (`POST /v1/webhooks/{id}/rotate-secret`). The old secret stops
 * signing at once: tries made after this are signed with the new one, including retries of older deliveries.
 */
import { and, eq } from "drizzle-orm";
import type { WebhookWithSecret } from "../../../../schema/api.ts";
import { webhookEndpoints } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { toWebhookEndpoint } from "./serialize.ts";
import { encryptSigningSecret, generateSigningSecret } from "./signing-secret.ts";

/**
 * @returns the endpoint and its new `whsec_…` secret (shown only in this answer)
 * @throws ProblemError `not-found` (404) when `userId` has no such endpoint
 */
export async function rotateWebhookSecret(deps: Deps, userId: string, endpointId: string): Promise<WebhookWithSecret> {
  const secret = generateSigningSecret();
  const ciphertext = await encryptSigningSecret(deps.config.betterAuthSecret, endpointId, secret);
  const [row] = await deps.db
    .update(webhookEndpoints)
    .set({ secretCiphertext: ciphertext, updatedAt: new Date() })
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.userId, userId)))
    .returning();
  if (!row) throw new ProblemError("not-found", `No webhook ${endpointId}.`);
  deps.log.info("webhook secret rotated", { webhookId: endpointId, userId });
  return { webhook: toWebhookEndpoint(row), secret };
}
