/**
 * Deletes one transcode of one user's video: its D1 record, then (when an attempt was queued or running)
 * a cancel request to the processor (./cancel-job.ts), then every object under its prefix
 * (`transcodePrefix`, all attempts, listed: HLS segments are not known one by one).
 *
 * Rules:
 * - Owner-scoped: another user's transcode, or one of another video, is a 404 `not-found`.
 * - The record goes first, in one D1 batch with its `TRANSCODE_DELETED` timeline row (./timeline.ts): from then on the transcode is gone for every reader, and a late event of it
 *   finds no record and changes nothing (a late SUCCESS has its outputs deleted, ./record-event.ts).
 * - Objects a storage failure leaves are logged; they are removed with the video (its purge deletes the
 *   whole `transcodes/` prefix of the video, ./purge-video-objects.ts), so nothing outlives the video.
 */
import { and, eq } from "drizzle-orm";
import { transcodes } from "../../../schema/db.ts";
import { transcodePrefix } from "../../../schema/object-keys.ts";
import type { Deps } from "../context.ts";
import { ProblemError } from "../errors.ts";
import { getVideoRow } from "../services/videos/get-video.ts";
import { cancelProcessorJob } from "./cancel-job.ts";
import { deleteUnderPrefix } from "./purge-video-objects.ts";
import { T_PROCESSING, T_QUEUED } from "./statuses.ts";
import { deletedEvent } from "./timeline.ts";
import { transcodeJob } from "./transcode-job.ts";

/**
 * @throws ProblemError `not-found` (404) when the user has no such video, or no such transcode of it; Error on D1 failures
 */
export async function deleteTranscode(deps: Deps, userId: string, videoId: string, transcodeId: string): Promise<void> {
  // The video first, like every route under it: another user's video answers exactly as a missing one.
  await getVideoRow(deps, userId, videoId);
  const owned = and(eq(transcodes.id, transcodeId), eq(transcodes.videoId, videoId), eq(transcodes.userId, userId));
  const [, [row]] = await deps.db.batch([
    deletedEvent(deps, transcodeJob, owned, new Date()),
    deps.db.delete(transcodes).where(owned).returning(),
  ]);
  if (!row) throw new ProblemError("not-found", `No transcode ${transcodeId} of video ${videoId}.`);
  deps.log.info("transcode deleted", { videoId, transcodeId, status: row.status, attempt: row.attempt });
  if (row.status === T_QUEUED || row.status === T_PROCESSING) await cancelProcessorJob(deps, row);
  const left = await deleteUnderPrefix(deps, deps.config.videosBucket, transcodePrefix(userId, videoId, transcodeId));
  if (left.length > 0) deps.log.error("transcode objects left; removed with the video", { videoId, transcodeId, left: left.length });
}
