/**
 * Queues the webhooks of a finished transcode attempt (`transcode.ready` for TRANSCODE_SUCCESS,
 * `transcode.failed` for TRANSCODE_ERROR) through the same delivery rows as the video's events
 * (./enqueue-video-event.ts). The body's `data` holds the video and the transcode as `GET` shows them when
 * the event happened, output links valid EMAIL_LINK_TTL_SECONDS (the body is fixed for every retry).
 */
import { and, eq } from "drizzle-orm";
import { videos } from "../../../../schema/db.ts";
import type { WebhookEventType } from "../../../../schema/messages/index.ts";
import type { Deps } from "../../context.ts";
import { T_ERROR, T_SUCCESS } from "../../lifecycle/statuses.ts";
import { toTranscode, type TranscodeRow } from "../transcodes/serialize.ts";
import { toVideo } from "../videos/serialize.ts";
import { enqueueWebhookEvent, videoEventId } from "./enqueue-video-event.ts";

/**
 * @param row a transcode in TRANSCODE_SUCCESS or TRANSCODE_ERROR (anything else, or a deleted video, queues nothing)
 * @returns the number of messages sent
 * @throws on D1 or queue failures (the caller retries its message; this is idempotent)
 */
export async function enqueueTranscodeWebhooks(deps: Deps, row: TranscodeRow): Promise<number> {
  if (row.status !== T_SUCCESS && row.status !== T_ERROR) return 0;
  const type: WebhookEventType = row.status === T_SUCCESS ? "transcode.ready" : "transcode.failed";
  return enqueueWebhookEvent(deps, {
    type,
    userId: row.userId,
    videoId: row.videoId,
    jobId: row.id,
    attempt: row.attempt,
    eventId: await videoEventId(row.id, row.attempt, type),
    data: async () => {
      const [video] = await deps.db
        .select()
        .from(videos)
        .where(and(eq(videos.id, row.videoId), eq(videos.userId, row.userId)))
        .limit(1);
      const filename = video?.filename ?? "video";
      return {
        ...(video ? { video: toVideo(video) } : {}),
        transcode: await toTranscode(deps, row, filename, deps.config.emailLinkTtlSeconds),
      };
    },
  });
}
