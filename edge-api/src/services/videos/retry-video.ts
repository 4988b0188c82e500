/**
 * Queues a new extraction attempt of a failed video: ERROR → QUEUED with attempt + 1, clearing the
 * error, progress and result fields, with a new lease (now + JOB_LEASE_SECONDS, ./leases.ts) and the
 * cron's recovery count back to 0; sends MSG_EXTRACT_SNAPSHOT for the new attempt. Only from
 * VIDEO_IMAGE_EXTRACTION_ERROR (409 `conflict` otherwise). When the send fails the previous state is
 * restored and the answer is 503.
 */
import { and, eq } from "drizzle-orm";
import type { Video } from "../../../../schema/api.ts";
import { videos } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { errorFields } from "../../log.ts";
import { buildExtractMessage } from "./extract-message.ts";
import { queuedLeaseExpiry } from "./lease-deadlines.ts";
import { getVideoRow } from "./get-video.ts";
import { toVideo } from "./serialize.ts";
import { QUEUED, RETRY_FROM } from "./state-machine.ts";

/**
 * @returns the video, QUEUED with the new attempt
 * @throws ProblemError `not-found` (404), `conflict` (409, not in ERROR), `service-unavailable` (503)
 */
export async function retryVideo(deps: Deps, userId: string, videoId: string): Promise<Video> {
  const before = await getVideoRow(deps, userId, videoId);
  if (before.status !== RETRY_FROM) {
    throw new ProblemError("conflict", `Only a video whose extraction failed can be retried; this one is ${before.status}.`);
  }
  const now = new Date();
  const nextAttempt = before.attempt + 1;
  const [queued] = await deps.db
    .update(videos)
    .set({
      status: QUEUED,
      attempt: nextAttempt,
      queuedAt: now,
      updatedAt: now,
      leaseExpiresAt: queuedLeaseExpiry(deps.config, now),
      recoveries: 0,
      processingStartedAt: null,
      completedAt: null,
      progress: null,
      imagesSoFar: null,
      imageCount: null,
      zipSizeBytes: null,
      durationSeconds: null,
      archiveKey: null,
      manifestKey: null,
      errorMessage: null,
      errorDescription: null,
    })
    .where(
      and(
        eq(videos.id, videoId),
        eq(videos.userId, userId),
        eq(videos.status, RETRY_FROM),
        eq(videos.attempt, before.attempt),
      ),
    )
    .returning();
  if (!queued) {
    throw new ProblemError("conflict", "The video changed while retrying (a concurrent retry?); fetch it and try again.");
  }

  try {
    await deps.env.EXTRACT_QUEUE.send(buildExtractMessage(queued));
  } catch (err) {
    deps.log.error("extract queue send failed; restoring the failed attempt", { videoId, ...errorFields(err) });
    await deps.db
      .update(videos)
      .set({
        status: before.status,
        attempt: before.attempt,
        queuedAt: before.queuedAt,
        updatedAt: new Date(),
        leaseExpiresAt: before.leaseExpiresAt,
        recoveries: before.recoveries,
        processingStartedAt: before.processingStartedAt,
        completedAt: before.completedAt,
        progress: before.progress,
        imagesSoFar: before.imagesSoFar,
        imageCount: before.imageCount,
        zipSizeBytes: before.zipSizeBytes,
        durationSeconds: before.durationSeconds,
        archiveKey: before.archiveKey,
        manifestKey: before.manifestKey,
        errorMessage: before.errorMessage,
        errorDescription: before.errorDescription,
      })
      .where(
        and(eq(videos.id, videoId), eq(videos.userId, userId), eq(videos.status, QUEUED), eq(videos.attempt, nextAttempt)),
      );
    throw new ProblemError("service-unavailable", "The job queue is unavailable; retry again shortly.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
  deps.log.info("video retry queued", { videoId, attempt: nextAttempt });
  return toVideo(queued);
}
