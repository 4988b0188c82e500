/**
 * One try of one webhook delivery (the work of the vidsnap-webhooks consumer). The row is claimed first,
 * so a duplicate message never sends twice after a success, nor twice at the same time. The stored body
 * is POSTed to the endpoint's URL with the `vidsnap-*` headers and signature of docs/webhooks.md by
 * ./send-signed.ts (the URL re-checked with runtime/outgoing-url.ts, redirects not followed: a 3xx is a failed try). A disabled endpoint, a URL the rules now refuse or a secret that no longer
 * decrypts fail the delivery at once: retrying cannot help. A `ping` gets one try only ({@link maxTries}).
 * The secret is never logged.
 */
import { and, eq, sql } from "drizzle-orm";
import { backoffDelay } from "../../../../runtime/backoff.ts";
import { webhookDeliveries, webhookEndpoints } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { deliveryWhere, MAX_ERROR_LENGTH, webhookDeliveryStore, type DeliveryRef } from "./delivery-store.ts";
import type { WebhookDeliveryRow } from "./serialize.ts";
import { sendSigned, type TryResult } from "./send-signed.ts";

export type { DeliveryRef } from "./delivery-store.ts";

/** Tries of one delivery before it is marked failed; vidsnap-webhooks' max_retries (wrangler.toml) must be at least this − 1. */
export const WEBHOOK_MAX_ATTEMPTS = 10;
/** Delay before the second try, seconds; doubled for each further try. */
export const WEBHOOK_RETRY_BASE_SECONDS = 30;
/** Longest delay between two tries, seconds. */
export const WEBHOOK_RETRY_CAP_SECONDS = 3600;
export { WEBHOOK_TIMEOUT_MS, WEBHOOK_USER_AGENT } from "./send-signed.ts";
/** How long a claim keeps other consumers off a delivery: the timeout plus D1 round trips, ms. */
const LEASE_MS = 60_000;

/**
 * Tries a delivery of `eventType` gets: one for a `ping` (a test says whether the receiver answers now, and
 * retried pings would turn each test call into up to {@link WEBHOOK_MAX_ATTEMPTS} POSTs), else
 * {@link WEBHOOK_MAX_ATTEMPTS}.
 */
export function maxTries(eventType: string): number {
  return eventType === "ping" ? 1 : WEBHOOK_MAX_ATTEMPTS;
}

/**
 * Delay after `triesMade` failed tries (1-based), seconds: 30·2^(n−1) capped at 3600, i.e. 30 s, 1, 2,
 * 4, 8, 16, 32 min, then hourly: the 10th and last try comes about 3 h after the first.
 */
export function webhookRetryDelaySeconds(triesMade: number): number {
  return backoffDelay(triesMade, { base: WEBHOOK_RETRY_BASE_SECONDS, max: WEBHOOK_RETRY_CAP_SECONDS });
}

/** What one call did; the consumer acks everything but `retry`. */
export type DeliveryOutcome =
  | { kind: "skipped"; reason: "gone" | "finished" | "in-flight" }
  | { kind: "succeeded"; responseStatus: number; triesMade: number }
  | { kind: "retry"; delaySeconds: number; triesMade: number; error: string }
  | { kind: "failed"; triesMade: number; error: string };

/**
 * @returns the outcome of this call
 * @throws on D1 failures (the caller retries the message; the claim expires after {@link LEASE_MS})
 */
export async function deliverWebhook(deps: Deps, ref: DeliveryRef): Promise<DeliveryOutcome> {
  const claim = await webhookDeliveryStore.claim(deps.db, deliveryWhere(ref), { leaseMs: LEASE_MS });
  if (claim.kind !== "claimed") {
    return { kind: "skipped", reason: claim.kind === "gone" ? "gone" : claim.kind === "done" ? "finished" : "in-flight" };
  }
  const row = claim.row;

  const [endpoint] = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, ref.endpointId), eq(webhookEndpoints.userId, ref.userId)))
    .limit(1);
  if (!endpoint) return { kind: "skipped", reason: "gone" };
  if (!endpoint.enabled) return record(deps, row, { responseStatus: null, error: "the endpoint is disabled", final: true, durationMs: 0 });
  const result = await sendSigned(deps, endpoint, row.payload, { "vidsnap-event-id": row.eventId, "vidsnap-delivery-id": row.id });
  return record(deps, row, result);
}

/** Stores one try's outcome (appended to the try log), releases the claim and decides what comes next. */
async function record(deps: Deps, row: WebhookDeliveryRow, result: TryResult): Promise<DeliveryOutcome> {
  const now = new Date();
  const triesMade = row.attemptsMade + 1;
  const error = result.error ? result.error.slice(0, MAX_ERROR_LENGTH) : null;
  const retry = error !== null && !result.final && triesMade < maxTries(row.eventType);
  const delaySeconds = webhookRetryDelaySeconds(triesMade);
  const entry = {
    at: new Date(now.getTime() - result.durationMs).toISOString(),
    responseStatus: result.responseStatus,
    error,
    durationMs: result.durationMs,
  };
  await webhookDeliveryStore.settle(
    deps.db,
    eq(webhookDeliveries.id, row.id),
    error === null
      ? { sent: true }
      : { sent: false, error, retryAt: retry ? new Date(now.getTime() + delaySeconds * 1000) : null },
    {
      now,
      values: {
        attemptsMade: triesMade,
        lastResponseStatus: result.responseStatus,
        deliveredAt: error === null ? now : null,
        attemptLog: sql`json_insert(${webhookDeliveries.attemptLog}, '$[#]', json(${JSON.stringify(entry)}))`,
      },
    },
  );
  const fields = {
    deliveryId: row.id,
    webhookId: row.endpointId,
    eventId: row.eventId,
    eventType: row.eventType,
    videoId: row.videoId,
    attemptsMade: triesMade,
    responseStatus: result.responseStatus,
    durationMs: result.durationMs,
  };
  if (error === null) {
    deps.log.info("webhook delivered", fields);
    return { kind: "succeeded", responseStatus: result.responseStatus ?? 0, triesMade };
  }
  if (!retry) {
    deps.log.warn("webhook delivery failed", { ...fields, error });
    return { kind: "failed", triesMade, error };
  }
  deps.log.info("webhook try failed; will retry", { ...fields, error, delaySeconds });
  return { kind: "retry", delaySeconds, triesMade, error };
}
