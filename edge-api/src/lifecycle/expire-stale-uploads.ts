/**
 * Expires uploads that were never completed: VIDEO_UPLOAD_PENDING records created more than
 * UPLOAD_PENDING_TTL_SECONDS ago are deleted with their source object (the presigned PUT may have
 * landed without a `complete`) and their open multipart upload is aborted (parts freed). Run by the cron trigger (edge-api/src/index.ts `scheduled`).
 *
 * Rules:
 * - Bounded work: at most {@link EXPIRE_BATCH_SIZE} records per run, oldest first (the next run takes the
 *   rest). The queries use a sub-select, so the bound parameters stay far below D1's 100 per query.
 * - Records go first, in one D1 batch with their `video_deletions` rows and the deletion of their timelines, and only while still PENDING:
 *   a `complete` racing the cron either queued the video first (then it is kept) or finds it gone (404).
 *   Transcodes waiting for the upload (TRANSCODE_PENDING, never queued, nothing stored) go with the record
 *   through the foreign key's ON DELETE CASCADE.
 * - Then the objects (./purge-video-objects.ts); a storage failure leaves `video_deletions` rows that the
 *   cron sweep retries.
 * - UPLOAD_PENDING_TTL_SECONDS is validated to exceed UPLOAD_URL_TTL_SECONDS (edge-api/src/env.ts), so an
 *   upload whose presigned PUT is still valid is never expired.
 */
import { and, asc, eq, inArray, isNull, lt } from "drizzle-orm";
import { videos } from "../../../schema/db.ts";
import type { Deps } from "../context.ts";
import { purgeVideoObjects, recordVideoDeletions } from "./purge-video-objects.ts";
import { PENDING } from "./statuses.ts";
import { deleteVideoEvents } from "./timeline.ts";

/** Most stale uploads expired per run. */
export const EXPIRE_BATCH_SIZE = 100;

/**
 * @param opts.now the run's time (the cron's `scheduledTime`); records created before
 *   `now − UPLOAD_PENDING_TTL_SECONDS` are stale
 * @param opts.limit most records expired in this run, 1..100 (default {@link EXPIRE_BATCH_SIZE})
 * @returns how many records were expired, and how many of them kept an object for the sweep
 * @throws Error on D1 failures (nothing is half-deleted: records and `video_deletions` rows go together)
 */
export async function expireStaleUploads(
  deps: Deps,
  opts: { now: Date; limit?: number },
): Promise<{ expired: number; purgeFailed: number }> {
  const limit = Math.max(1, Math.min(EXPIRE_BATCH_SIZE, opts.limit ?? EXPIRE_BATCH_SIZE));
  const cutoff = new Date(opts.now.getTime() - deps.config.uploadPendingTtlSeconds * 1000);
  const stale = () =>
    deps.db
      .select({ id: videos.id })
      .from(videos)
      // An imported video (source_url set) is PENDING only on its way from a stored import to its extraction:
      // it never waits for an upload, so it is never expired.
      .where(and(eq(videos.status, PENDING), isNull(videos.sourceUrl), lt(videos.createdAt, cutoff)))
      .orderBy(asc(videos.createdAt))
      .limit(limit);
  const stillStale = and(inArray(videos.id, stale()), eq(videos.status, PENDING));
  const [, , expired] = await deps.db.batch([
    recordVideoDeletions(deps, stillStale, "expired", opts.now),
    deleteVideoEvents(deps, deps.db.select({ id: videos.id }).from(videos).where(stillStale)),
    deps.db
      .delete(videos)
      .where(stillStale)
      .returning({
        videoId: videos.id,
        userId: videos.userId,
        attempt: videos.attempt,
        sourceKey: videos.sourceKey,
        uploadId: videos.uploadId,
        createdAt: videos.createdAt,
      }),
  ]);
  if (expired.length === 0) return { expired: 0, purgeFailed: 0 };
  for (const row of expired) {
    deps.log.info("stale upload expired", { videoId: row.videoId, userId: row.userId, createdAt: row.createdAt.toISOString() });
  }
  const purge = await purgeVideoObjects(deps, expired);
  deps.log.info("stale uploads expired", { expired: expired.length, purgeFailed: purge.failed, limit });
  return { expired: expired.length, purgeFailed: purge.failed };
}
