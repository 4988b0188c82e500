/**
 * Job leases (docs/architecture.md, "Leases"; issue 4: "a job whose processor died is detected"): every
 * QUEUED or PROCESSING attempt carries a deadline in D1, `videos.lease_expires_at` (epoch ms).
 *
 * - Queued (complete, retry, recovery): now + JOB_LEASE_SECONDS (default 1800 s). It covers the time until
 *   the first PROCESSING event reaches D1: waiting in vidsnap-extract behind other jobs (with every consumer
 *   busy, a job may wait for one round of worst-case jobs, each holding its consumer up to Queues' 15 min
 *   wall clock) plus the consumer's backoff between deliveries (10 + 20 + 40 s) and a container start.
 * - Processing: every PROCESSING or PROGRESS event of the attempt renews it to now + PROCESSING_LEASE_SECONDS (default
 *   600 s). The processor reports progress after images, at most every 2 s, and is silent in between:
 *   ffprobe, decoding up to a whole file between two images in interval mode (minutes at worst on
 *   standard-1), the final upload. The extract consumer gives up on a stream silent for
 *   PROCESSOR_IDLE_TIMEOUT_SECONDS (default 300 s, validated to be below this lease) and the queue retries it
 *   after ≤ 40 s, whose processor answers with a fresh PROCESSING: the lease outlives that whole cycle.
 * - SUCCESS / ERROR clear it.
 *
 * The cron ({@link recoverExpiredLeases}) handles attempts past their deadline — processor and consumer both
 * gone (container restart, consumer invocation killed, events lost in a DLQ) — at most
 * {@link LEASE_SWEEP_BATCH_SIZE} per run, oldest deadline first:
 * - fewer than MAX_JOB_RECOVERIES recoveries so far → re-queued as a NEW attempt (attempt + 1; the old
 *   attempt's late events and queued message are then ignored by the state machine and the extract consumer)
 *   with a fresh lease, then MSG_EXTRACT_SNAPSHOT is sent (a failed send restores the row, like `complete`);
 * - otherwise → an ERROR event {@link LEASE_EXPIRED_ERROR_MESSAGE} of that attempt through
 *   ./record-processor-event.ts (state machine, then the error email), like the processor's own errors.
 * Every update is conditional on the same status, attempt and a still-expired lease, so a PROCESSING event
 * or a concurrent run arriving in between wins and the video is left alone.
 */
import { and, asc, eq, inArray, lt } from "drizzle-orm";
import { videos } from "../../../../schema/db.ts";
import type { ExtractSnapshotErrorMessage } from "../../../../schema/messages/index.ts";
import type { Deps } from "../../context.ts";
import { errorFields } from "../../log.ts";
import { buildExtractMessage } from "./extract-message.ts";
import { queuedLeaseExpiry } from "./lease-deadlines.ts";
import { recordProcessorEvent } from "./record-processor-event.ts";
import { QUEUED, RECOVER_FROM } from "./state-machine.ts";

/** Most expired leases handled per cron run (each takes a few D1 queries and one queue send). */
export const LEASE_SWEEP_BATCH_SIZE = 50;
/** errorMessage of a video failed by the lease sweep after MAX_JOB_RECOVERIES re-queues. */
export const LEASE_EXPIRED_ERROR_MESSAGE = "Processing stopped responding";

/** Outcome of one sweep. */
export interface LeaseSweepResult {
  /** Expired leases found (≤ limit). */
  expired: number;
  /** Re-queued as a new attempt, MSG_EXTRACT_SNAPSHOT sent. */
  requeued: number;
  /** Failed with {@link LEASE_EXPIRED_ERROR_MESSAGE} (error email queued). */
  failed: number;
  /** Changed by something else between the scan and the update (left alone). */
  skipped: number;
  /** Not handled because of a D1 or queue failure (the next run tries again: the lease stays expired). */
  errors: number;
}

/**
 * Re-queues or fails the QUEUED/PROCESSING attempts whose lease expired before `opts.now`.
 * @param opts.now the run's time (the cron's `scheduledTime`)
 * @param opts.limit most videos handled, 1..{@link LEASE_SWEEP_BATCH_SIZE} (default); each query binds a
 *   handful of parameters, far below D1's 100 per query
 * @returns counts of what happened
 * @throws Error when the scan fails, or after the whole batch when some videos could not be handled
 *   (`errors` > 0), so the scheduled run is reported as failed
 */
export async function recoverExpiredLeases(deps: Deps, opts: { now: Date; limit?: number }): Promise<LeaseSweepResult> {
  const limit = Math.max(1, Math.min(LEASE_SWEEP_BATCH_SIZE, opts.limit ?? LEASE_SWEEP_BATCH_SIZE));
  const { now } = opts;
  const expired = await deps.db
    .select()
    .from(videos)
    .where(and(inArray(videos.status, [...RECOVER_FROM]), lt(videos.leaseExpiresAt, now)))
    .orderBy(asc(videos.leaseExpiresAt))
    .limit(limit);
  const result: LeaseSweepResult = { expired: expired.length, requeued: 0, failed: 0, skipped: 0, errors: 0 };
  for (const row of expired) {
    const log = deps.log.child({ videoId: row.id, userId: row.userId, attempt: row.attempt });
    const fields = {
      status: row.status,
      recoveries: row.recoveries,
      leaseExpiresAt: row.leaseExpiresAt?.toISOString(),
    };
    try {
      if (row.recoveries < deps.config.maxJobRecoveries) {
        const outcome = await requeue(deps, row, now);
        result[outcome]++;
        if (outcome === "requeued") log.warn("expired lease: attempt re-queued", { ...fields, newAttempt: row.attempt + 1 });
        else log.info("expired lease: video changed meanwhile, left alone", fields);
      } else {
        const event: ExtractSnapshotErrorMessage = {
          type: "MSG_EXTRACT_SNAPSHOT_ERROR",
          sender: "VIDEO_IMAGE_PROCESSOR_SERVICE",
          target: "VIDEO_API_SERVICE",
          payload: {
            videoId: row.id,
            userId: row.userId,
            attempt: row.attempt,
            errorMessage: LEASE_EXPIRED_ERROR_MESSAGE,
            errorDescription:
              `The image processor stopped reporting on this video ${row.recoveries + 1} time(s) in a row` +
              ` (${row.recoveries} automatic restart(s)); the extraction was stopped. Retry the video to start again.`,
          },
        };
        const outcome = await recordProcessorEvent({ ...deps, log }, event, { leaseExpiredBefore: now });
        if (outcome.result === "applied") {
          result.failed++;
          log.error("expired lease: recoveries used up, video failed", { ...fields, maxJobRecoveries: deps.config.maxJobRecoveries });
        } else {
          result.skipped++;
          log.info("expired lease: video changed meanwhile, left alone", { ...fields, result: outcome.result });
        }
      }
    } catch (err) {
      result.errors++;
      log.error("expired lease could not be handled; next run retries", { ...fields, ...errorFields(err) });
    }
  }
  deps.log.info("lease sweep done", { ...result, limit });
  if (result.errors > 0) throw new Error(`lease sweep: ${result.errors} of ${result.expired} expired lease(s) not handled`);
  return result;
}

type VideoRow = typeof videos.$inferSelect;

/**
 * Moves an expired attempt to a new QUEUED attempt and sends its job.
 * @returns `skipped` when the row changed since the scan (nothing done)
 * @throws the queue's error after restoring the row (its lease stays expired: the next run retries)
 */
async function requeue(deps: Deps, row: VideoRow, now: Date): Promise<"requeued" | "skipped"> {
  const stillExpired = (status: VideoRow["status"], attempt: number) =>
    and(eq(videos.id, row.id), eq(videos.status, status), eq(videos.attempt, attempt), lt(videos.leaseExpiresAt, now));
  const [queued] = await deps.db
    .update(videos)
    .set({
      status: QUEUED,
      attempt: row.attempt + 1,
      recoveries: row.recoveries + 1,
      leaseExpiresAt: queuedLeaseExpiry(deps.config, now),
      queuedAt: now,
      updatedAt: now,
      processingStartedAt: null,
      progress: null,
      imagesSoFar: null,
    })
    .where(stillExpired(row.status, row.attempt))
    .returning();
  if (!queued) return "skipped";
  try {
    await deps.env.EXTRACT_QUEUE.send(buildExtractMessage(queued));
  } catch (err) {
    await deps.db
      .update(videos)
      .set({
        status: row.status,
        attempt: row.attempt,
        recoveries: row.recoveries,
        leaseExpiresAt: row.leaseExpiresAt,
        queuedAt: row.queuedAt,
        updatedAt: new Date(),
        processingStartedAt: row.processingStartedAt,
        progress: row.progress,
        imagesSoFar: row.imagesSoFar,
      })
      .where(and(eq(videos.id, row.id), eq(videos.status, QUEUED), eq(videos.attempt, row.attempt + 1)));
    throw err;
  }
  return "requeued";
}
