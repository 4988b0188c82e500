/**
 * One try of one webhook delivery (the work of the vidsnap-webhooks consumer, edge-api/src/queues/webhooks-consumer.ts):
 *
 * 1. claim the row: `pending` and not locked (or its lock expired) → locked for {@link LOCK_MS}. A row that
 *    succeeded or failed, or that another consumer is sending, is skipped: a duplicate message never sends
 *    twice after a success, nor twice at the same time.
 * 2. POST the stored body to the endpoint's URL (re-checked with ./check-url.ts) with `content-type:
 *    application/json`, `user-agent: vidsnap-webhooks/1`, `vidsnap-event-id`, `vidsnap-delivery-id` and
 *    `vidsnap-signature` (./sign-payload.ts); {@link WEBHOOK_TIMEOUT_MS} timeout; redirects are not followed
 *    (a 3xx is a failed try).
 * 3. record the try (appended to `attempt_log`) and release the lock: 2xx → `succeeded`; otherwise
 *    `pending` with `next_attempt_at` = now + {@link webhookRetryDelaySeconds}, or `failed` after
 *    {@link WEBHOOK_MAX_ATTEMPTS} tries. A disabled endpoint, a URL the rules now refuse or a secret that no
 *    longer decrypts fail the delivery at once (retrying cannot help).
 * The secret is never logged.
 */
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { checkWebhookUrl } from "./check-url.ts";
import type { WebhookDeliveryRow } from "./serialize.ts";
import { signatureHeader } from "./sign-payload.ts";
import { decryptSigningSecret, SecretUnreadableError } from "./signing-secret.ts";

/** Tries of one delivery before it is marked failed; vidsnap-webhooks' max_retries (wrangler.toml) must be at least this − 1. */
export const WEBHOOK_MAX_ATTEMPTS = 10;
/** Delay before the second try, seconds; doubled for each further try. */
export const WEBHOOK_RETRY_BASE_SECONDS = 30;
/** Longest delay between two tries, seconds. */
export const WEBHOOK_RETRY_CAP_SECONDS = 3600;
/** An endpoint must answer within this, ms. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_USER_AGENT = "vidsnap-webhooks/1";
/** How long a claim keeps other consumers off a delivery: the timeout plus D1 round trips, ms. */
const LOCK_MS = 60_000;
const MAX_ERROR_LENGTH = 200;

/**
 * Delay after `attemptsMade` failed tries (1-based), seconds: 30·2^(n−1) capped at 3600, i.e. 30 s, 1, 2,
 * 4, 8, 16, 32 min, then hourly: the 10th and last try comes about 3 h after the first.
 */
export function webhookRetryDelaySeconds(attemptsMade: number): number {
  return Math.min(WEBHOOK_RETRY_CAP_SECONDS, WEBHOOK_RETRY_BASE_SECONDS * 2 ** Math.max(0, attemptsMade - 1));
}

/** What one call did; the consumer acks everything but `retry`. */
export type DeliveryOutcome =
  | { kind: "skipped"; reason: "gone" | "finished" | "in-flight" }
  | { kind: "succeeded"; responseStatus: number; attemptsMade: number }
  | { kind: "retry"; delaySeconds: number; attemptsMade: number; error: string }
  | { kind: "failed"; attemptsMade: number; error: string };

/** Names the delivery (the MSG_DELIVER_WEBHOOK payload); the row must match all three. */
export interface DeliveryRef {
  deliveryId: string;
  endpointId: string;
  userId: string;
}

/**
 * @returns the outcome of this call
 * @throws on D1 failures (the caller retries the message; the claim expires after {@link LOCK_MS})
 */
export async function deliverWebhook(deps: Deps, ref: DeliveryRef): Promise<DeliveryOutcome> {
  const now = new Date();
  const owned = and(
    eq(webhookDeliveries.id, ref.deliveryId),
    eq(webhookDeliveries.endpointId, ref.endpointId),
    eq(webhookDeliveries.userId, ref.userId),
  );
  const [claimed] = await deps.db
    .update(webhookDeliveries)
    .set({ lockedUntil: new Date(now.getTime() + LOCK_MS) })
    .where(
      and(
        owned,
        eq(webhookDeliveries.status, "pending"),
        or(isNull(webhookDeliveries.lockedUntil), lt(webhookDeliveries.lockedUntil, now)),
      ),
    )
    .returning();
  if (!claimed) {
    const [row] = await deps.db.select({ status: webhookDeliveries.status }).from(webhookDeliveries).where(owned).limit(1);
    return { kind: "skipped", reason: !row ? "gone" : row.status === "pending" ? "in-flight" : "finished" };
  }

  const [endpoint] = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, ref.endpointId), eq(webhookEndpoints.userId, ref.userId)))
    .limit(1);
  if (!endpoint) return { kind: "skipped", reason: "gone" };
  if (!endpoint.enabled) return record(deps, claimed, { responseStatus: null, error: "the endpoint is disabled", final: true, durationMs: 0 });
  const checked = checkWebhookUrl(endpoint.url, deps.config.environment);
  if (!checked.ok) {
    return record(deps, claimed, { responseStatus: null, error: `the URL is refused: it ${checked.reason}`, final: true, durationMs: 0 });
  }
  let secret: string;
  try {
    secret = await decryptSigningSecret(deps.config.betterAuthSecret, endpoint.id, endpoint.secretCiphertext);
  } catch (err) {
    if (!(err instanceof SecretUnreadableError)) throw err;
    deps.log.error("webhook signing secret unreadable", { webhookId: endpoint.id, deliveryId: claimed.id });
    const error = "the signing secret is unreadable (BETTER_AUTH_SECRET changed?); rotate the webhook's secret";
    return record(deps, claimed, { responseStatus: null, error, final: true, durationMs: 0 });
  }

  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), WEBHOOK_TIMEOUT_MS);
  let responseStatus: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(checked.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": WEBHOOK_USER_AGENT,
        "vidsnap-event-id": claimed.eventId,
        "vidsnap-delivery-id": claimed.id,
        "vidsnap-signature": await signatureHeader(secret, claimed.payload, Math.floor(Date.now() / 1000)),
      },
      body: claimed.payload,
      redirect: "manual",
      signal: controller.signal,
    });
    responseStatus = res.status;
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 300 && res.status < 400) error = `HTTP ${res.status}: redirects are not followed`;
    else if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (err) {
    error = controller.signal.aborted
      ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
      : `request failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
  return record(deps, claimed, { responseStatus, error, final: false, durationMs: Date.now() - started });
}

/** Stores one try's outcome, releases the claim and decides what comes next. */
async function record(
  deps: Deps,
  row: WebhookDeliveryRow,
  attempt: { responseStatus: number | null; error: string | null; final: boolean; durationMs: number },
): Promise<DeliveryOutcome> {
  const now = new Date();
  const attemptsMade = row.attemptsMade + 1;
  const error = attempt.error ? attempt.error.slice(0, MAX_ERROR_LENGTH) : null;
  const status = !error ? "succeeded" : attempt.final || attemptsMade >= WEBHOOK_MAX_ATTEMPTS ? "failed" : "pending";
  const delaySeconds = webhookRetryDelaySeconds(attemptsMade);
  const entry = { at: new Date(now.getTime() - attempt.durationMs).toISOString(), responseStatus: attempt.responseStatus, error, durationMs: attempt.durationMs };
  await deps.db
    .update(webhookDeliveries)
    .set({
      status,
      attemptsMade,
      lastResponseStatus: attempt.responseStatus,
      lastError: error,
      nextAttemptAt: status === "pending" ? new Date(now.getTime() + delaySeconds * 1000) : null,
      lockedUntil: null,
      deliveredAt: status === "succeeded" ? now : null,
      updatedAt: now,
      attemptLog: sql`json_insert(${webhookDeliveries.attemptLog}, '$[#]', json(${JSON.stringify(entry)}))`,
    })
    .where(and(eq(webhookDeliveries.id, row.id), eq(webhookDeliveries.status, "pending")));
  const fields = {
    deliveryId: row.id,
    webhookId: row.endpointId,
    eventId: row.eventId,
    eventType: row.eventType,
    videoId: row.videoId,
    attemptsMade,
    responseStatus: attempt.responseStatus,
    durationMs: attempt.durationMs,
  };
  if (status === "succeeded") {
    deps.log.info("webhook delivered", fields);
    return { kind: "succeeded", responseStatus: attempt.responseStatus ?? 0, attemptsMade };
  }
  if (status === "failed") {
    deps.log.warn("webhook delivery failed", { ...fields, error });
    return { kind: "failed", attemptsMade, error: error ?? "" };
  }
  deps.log.info("webhook try failed; will retry", { ...fields, error, delaySeconds });
  return { kind: "retry", delaySeconds, attemptsMade, error: error ?? "" };
}
