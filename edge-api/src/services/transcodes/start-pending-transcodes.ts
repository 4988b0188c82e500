/**
 * Starts the transcodes that waited for a video's upload (TRANSCODE_PENDING → TRANSCODE_QUEUED, attempt 1),
 * called by the video's `complete` (../videos/complete-upload.ts) every time, so a start that failed
 * (queue send) is tried again by the next, idempotent, `complete` call.
 */
import { and, eq } from "drizzle-orm";
import { transcodes } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { T_PENDING } from "../../lifecycle/statuses.ts";
import type { VideoRow } from "../videos/serialize.ts";
import { startTranscode } from "./create-transcode.ts";

/**
 * @param video a video whose upload is completed (status past VIDEO_UPLOAD_PENDING)
 * @returns how many transcodes this call queued
 * @throws QueueSendError when a send failed (that transcode stays PENDING; the ones before it are queued)
 */
export async function startPendingTranscodes(deps: Deps, video: Pick<VideoRow, "id" | "userId">): Promise<number> {
  const pending = await deps.db
    .select()
    .from(transcodes)
    .where(and(eq(transcodes.videoId, video.id), eq(transcodes.userId, video.userId), eq(transcodes.status, T_PENDING)));
  let started = 0;
  for (const row of pending) {
    const queued = await startTranscode(deps, row);
    if (queued.status !== T_PENDING) started++;
  }
  if (started > 0) deps.log.info("pending transcodes started", { videoId: video.id, started });
  return started;
}
