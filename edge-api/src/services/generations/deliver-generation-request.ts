/**
 * One try of a generation's signed request to its generator (the work of the vidsnap-webhooks consumer for
 * MSG_REQUEST_GENERATION). The `generations` row is claimed first (./request-store.ts), so a duplicate message
 * never sends twice after a success nor twice at once. The body `{generationId, input, callback: {url, token}}`
 * is built at each try (the token is derived, never stored: ./callback-token.ts) and POSTed by
 * ../webhooks/send-signed.ts: the webhooks' signature (`vidsnap-signature`), URL rules and timeout.
 *
 * Each try lands in the video's timeline (source `api`, status unchanged). A 2xx ends the request `succeeded`;
 * a failed try is retried after 30 s, 1, 2, 4 min ({@link GENERATION_REQUEST_MAX_TRIES} tries, about 7.5 min);
 * after the last one, or at once when retrying cannot help (URL refused, secret unreadable, generator deleted),
 * the request is `failed` and the video ends VIDEO_GENERATION_ERROR with the error email
 * (../../lifecycle/generation.ts). A video no longer pending (timed out, deleted) is not requested at all.
 */
import { eq, sql } from "drizzle-orm";
import { backoffDelay } from "../../../../runtime/backoff.ts";
import { generations, generators, videos } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { failGeneration, noteGenerationRequest } from "../../lifecycle/generation.ts";
import { G_PENDING } from "../../lifecycle/statuses.ts";
import { sendSigned, type TryResult } from "../webhooks/send-signed.ts";
import { WEBHOOK_RETRY_BASE_SECONDS } from "../webhooks/deliver-webhook.ts";
import { callbackToken } from "./callback-token.ts";
import { generationRequestStore, generationWhere } from "./request-store.ts";

/** Tries of one request before the generation fails; vidsnap-webhooks' max_retries covers it. */
export const GENERATION_REQUEST_MAX_TRIES = 5;
/** How long a claim keeps other consumers off a request: the timeout plus D1 round trips, ms. */
const LEASE_MS = 60_000;

/** Delay after `triesMade` failed tries, seconds: 30·2^(n−1) (30 s, 1, 2, 4 min). */
export function generationRetryDelaySeconds(triesMade: number): number {
  return backoffDelay(triesMade, { base: WEBHOOK_RETRY_BASE_SECONDS, max: 3600 });
}

/** What one call did; the consumer acks everything but `retry`. */
export type RequestOutcome =
  | { kind: "skipped"; reason: "gone" | "finished" | "in-flight" }
  | { kind: "succeeded"; responseStatus: number; triesMade: number }
  | { kind: "retry"; delaySeconds: number; triesMade: number; error: string }
  | { kind: "failed"; triesMade: number; error: string };

/** The callback URL of a generation, on the API's public origin. */
export function callbackUrl(publicBaseUrl: string, generationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, "")}/v1/generations/${encodeURIComponent(generationId)}/callback`;
}

/**
 * @param ref the MSG_REQUEST_GENERATION payload
 * @throws on D1 failures (the caller retries the message; the claim expires after {@link LEASE_MS})
 */
export async function deliverGenerationRequest(deps: Deps, ref: { generationId: string; userId: string }): Promise<RequestOutcome> {
  const where = generationWhere(ref);
  const claim = await generationRequestStore.claim(deps.db, where, { leaseMs: LEASE_MS });
  if (claim.kind !== "claimed") {
    return { kind: "skipped", reason: claim.kind === "gone" ? "gone" : claim.kind === "done" ? "finished" : "in-flight" };
  }
  const row = claim.row;
  const video = { id: row.id, userId: row.userId };
  const [current] = await deps.db.select({ status: videos.status }).from(videos).where(eq(videos.id, row.id)).limit(1);
  if (current?.status !== G_PENDING) {
    await generationRequestStore.settle(deps.db, where, { sent: false, error: "not sent: the generation is no longer pending" });
    return { kind: "skipped", reason: "finished" };
  }
  const [generator] = row.generatorId
    ? await deps.db.select().from(generators).where(eq(generators.id, row.generatorId)).limit(1)
    : [];
  let result: TryResult;
  if (!generator || generator.userId !== row.userId) {
    result = { responseStatus: null, error: "the generator was deleted", final: true, durationMs: 0 };
  } else {
    const body = JSON.stringify({
      generationId: row.id,
      input: JSON.parse(row.input) as unknown,
      callback: { url: callbackUrl(deps.config.publicBaseUrl, row.id), token: await callbackToken(deps.config.betterAuthSecret, row.id) },
    });
    result = await sendSigned(deps, generator, body, { "vidsnap-generation-id": row.id });
  }

  const now = new Date();
  const triesMade = row.attemptsMade + 1;
  const error = result.error;
  const retry = error !== null && !result.final && triesMade < GENERATION_REQUEST_MAX_TRIES;
  const delaySeconds = generationRetryDelaySeconds(triesMade);
  const entry = { at: new Date(now.getTime() - result.durationMs).toISOString(), responseStatus: result.responseStatus, error, durationMs: result.durationMs };
  await generationRequestStore.settle(
    deps.db,
    where,
    error === null ? { sent: true } : { sent: false, error, retryAt: retry ? new Date(now.getTime() + delaySeconds * 1000) : null },
    {
      now,
      values: {
        attemptsMade: triesMade,
        lastResponseStatus: result.responseStatus,
        deliveredAt: error === null ? now : null,
        attemptLog: sql`json_insert(${generations.attemptLog}, '$[#]', json(${JSON.stringify(entry)}))`,
      },
    },
  );
  const fields = { videoId: row.id, generatorId: row.generatorId, triesMade, responseStatus: result.responseStatus, durationMs: result.durationMs };
  if (error === null) {
    deps.log.info("generation request sent", fields);
    await noteGenerationRequest(deps, video, `Request sent to the generator (HTTP ${result.responseStatus}, try ${triesMade}).`, now);
    return { kind: "succeeded", responseStatus: result.responseStatus ?? 0, triesMade };
  }
  if (retry) {
    deps.log.info("generation request try failed; will retry", { ...fields, error, delaySeconds });
    await noteGenerationRequest(deps, video, `Request to the generator failed (${error}), try ${triesMade} of ${GENERATION_REQUEST_MAX_TRIES}; next in ${delaySeconds} s.`, now);
    return { kind: "retry", delaySeconds, triesMade, error };
  }
  deps.log.warn("generation request failed", { ...fields, error });
  await failGeneration(
    deps,
    video,
    { source: "api", errorMessage: "The generator could not be reached.", errorDescription: `The request failed after ${triesMade} ${triesMade === 1 ? "try" : "tries"}; last: ${error}.` },
    now,
  );
  return { kind: "failed", triesMade, error };
}
