/**
 * Deletes one video of one user: its D1 record and its transcodes' records, its source object, the archive
 * and manifest of every attempt 1..attempt and every transcode output (./purge-video-objects.ts, keys of
 * schema/object-keys.ts). A transcode still queued or running is cancelled in the processor
 * (`DELETE /jobs/{transcodeId}%23{attempt}`, ./cancel-job.ts), and so is an import still queued or running
 * (`DELETE /jobs/{videoId}%23{attempt}`: the processor aborts its multipart upload, nothing is stored).
 *
 * Rules:
 * - Owner-scoped: another user's video is indistinguishable from a missing one (404 `not-found`).
 * - The record goes first, in one D1 batch with a `video_deletions` row listing what to purge and the
 *   deletion of its timeline (./timeline.ts). From then
 *   on the video is gone for every reader, and a later processor event finds no record and changes
 *   nothing (a late SUCCESS also has its archive removed: ./record-event.ts). So deleting while
 *   QUEUED or PROCESSING is safe.
 * - Then the objects (S3 DELETE, idempotent), after aborting an open multipart upload of the source. When the storage fails, the `video_deletions` row stays and
 *   the cron sweep retries; the request still succeeds (the video is deleted for the user).
 */
import { and, eq } from "drizzle-orm";
import { transcodes, videos } from "../../../schema/db.ts";
import type { Deps } from "../context.ts";
import { ProblemError } from "../errors.ts";
import { errorFields } from "../../../runtime/log.ts";
import { cancelProcessorJob } from "./cancel-job.ts";
import { purgeVideoObjects, recordVideoDeletions } from "./purge-video-objects.ts";
import { I_IMPORTING, I_QUEUED, T_PROCESSING, T_QUEUED } from "./statuses.ts";
import { deleteVideoEvents } from "./timeline.ts";

/**
 * @param userId the signed-in user
 * @param videoId the video to delete
 * @returns once the record is deleted and its objects purged (or left to the cron sweep)
 * @throws ProblemError `not-found` (404) when the user has no such video; Error on D1 failures
 */
export async function deleteVideo(deps: Deps, userId: string, videoId: string): Promise<void> {
  const owned = and(eq(videos.id, videoId), eq(videos.userId, userId));
  const [, , stopped, deleted] = await deps.db.batch([
    recordVideoDeletions(deps, owned, "deleted", new Date()),
    deleteVideoEvents(deps, [videoId], userId),
    deps.db
      .delete(transcodes)
      .where(and(eq(transcodes.videoId, videoId), eq(transcodes.userId, userId)))
      .returning({ id: transcodes.id, status: transcodes.status, attempt: transcodes.attempt }),
    deps.db.delete(videos).where(owned).returning(),
  ]);
  const row = deleted[0];
  if (!row) throw new ProblemError("not-found", `No video ${videoId}.`);
  deps.log.info("video deleted", { videoId, status: row.status, attempt: row.attempt, transcodes: stopped.length });
  // Transcodes still running are stopped in the processor (best effort; their late events change nothing).
  for (const t of stopped) if (t.status === T_QUEUED || t.status === T_PROCESSING) await cancelProcessorJob(deps, t);
  if ((row.status === I_QUEUED || row.status === I_IMPORTING) && row.attempt > 0) await cancelProcessorJob(deps, row);

  try {
    await purgeVideoObjects(deps, [{ ...row, videoId: row.id }]);
  } catch (err) {
    // D1 failed after the objects were handled: the `video_deletions` row stays for the sweep.
    deps.log.error("video objects purge not recorded; the cron sweep retries", { videoId, ...errorFields(err) });
  }
}
