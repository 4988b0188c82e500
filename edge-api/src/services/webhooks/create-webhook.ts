/**
 * Registers a webhook endpoint (`POST /v1/webhooks`): checks the URL (runtime/outgoing-url.ts), generates the
 * signing secret (./signing-secret.ts), stores it encrypted and returns it once.
 */
import { sql } from "drizzle-orm";
import type { CreateWebhookRequest, WebhookWithSecret } from "../../../../schema/api.ts";
import { WEBHOOK_EVENT_TYPES } from "../../../../schema/messages/index.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { checkOutgoingUrl } from "../../../../runtime/outgoing-url.ts";
import { encryptSigningSecret, generateSigningSecret } from "./signing-secret.ts";

/** Endpoints one user may register. */
export const MAX_WEBHOOKS_PER_USER = 10;

/**
 * @param body validated request: `url`, optional `events` (default every type) and `description`
 * @returns the endpoint and its `whsec_…` secret (shown only in this answer)
 * @throws ProblemError `validation` (400) for a refused URL; `conflict` (409) when the user already has
 *   {@link MAX_WEBHOOKS_PER_USER} endpoints (checked in the INSERT itself, so concurrent creations cannot
 *   exceed it)
 */
export async function createWebhook(deps: Deps, userId: string, body: CreateWebhookRequest): Promise<WebhookWithSecret> {
  const checked = checkOutgoingUrl(body.url, deps.config.environment);
  if (!checked.ok) {
    throw new ProblemError("validation", `The webhook URL is refused: it ${checked.reason}.`, {
      errors: [{ path: "url", message: checked.reason }],
    });
  }
  const id = crypto.randomUUID();
  const secret = generateSigningSecret();
  const ciphertext = await encryptSigningSecret(deps.config.betterAuthSecret, id, secret);
  const events = WEBHOOK_EVENT_TYPES.filter((t) => (body.events ?? WEBHOOK_EVENT_TYPES).includes(t));
  const description = body.description ? body.description : null;
  const now = Date.now();
  const result = await deps.db.run(sql`
    INSERT INTO webhook_endpoints (id, user_id, url, description, secret_ciphertext, events, enabled, created_at, updated_at)
    SELECT ${id}, ${userId}, ${checked.url}, ${description}, ${ciphertext}, ${JSON.stringify(events)}, 1, ${now}, ${now}
    WHERE (SELECT count(*) FROM webhook_endpoints WHERE user_id = ${userId}) < ${MAX_WEBHOOKS_PER_USER}`);
  if (!result.meta.changes) {
    throw new ProblemError("conflict", `At most ${MAX_WEBHOOKS_PER_USER} webhooks per user; delete one first.`);
  }
  deps.log.info("webhook created", { webhookId: id, userId, events });
  return {
    webhook: { id, url: checked.url, description, events: [...events], enabled: true, createdAt: new Date(now).toISOString() },
    secret,
  };
}
