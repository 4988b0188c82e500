/**
 * Queues the notification of a finished transcode attempt on EMAIL_QUEUE (schema/messages/transcode-email.ts):
 * MSG_SEND_TRANSCODE_SUCCESS with a presigned link to each file output and the tokenized HLS playback URL,
 * all valid EMAIL_LINK_TTL_SECONDS (≤ 7 days, the presign limit), or MSG_SEND_TRANSCODE_ERROR. The email
 * service deduplicates on (video, transcode, attempt, outcome), so sending again for a redelivered event
 * is safe.
 */
import { eq } from "drizzle-orm";
import { user, videos } from "../../../../schema/db.ts";
import {
  sendTranscodeErrorMessage,
  sendTranscodeSuccessMessage,
  TranscodeEmailMessage,
} from "../../../../schema/messages/index.ts";
import type { Deps } from "../../context.ts";
import { T_ERROR, T_SUCCESS } from "../../lifecycle/statuses.ts";
import { toTranscode, type TranscodeRow } from "./serialize.ts";

/**
 * @param row a transcode in TRANSCODE_SUCCESS or TRANSCODE_ERROR
 * @returns the message sent, or null when nothing was sent (not terminal, or the user or video is gone)
 * @throws whatever the queue send throws, or ZodError for a message off the contract (the caller retries)
 */
export async function sendTranscodeEmail(deps: Deps, row: TranscodeRow): Promise<TranscodeEmailMessage | null> {
  if (row.status !== T_SUCCESS && row.status !== T_ERROR) return null;
  const [owner] = await deps.db.select({ email: user.email, name: user.name }).from(user).where(eq(user.id, row.userId)).limit(1);
  const [video] = await deps.db.select({ filename: videos.filename }).from(videos).where(eq(videos.id, row.videoId)).limit(1);
  if (!owner || !video) {
    deps.log.warn("transcode owner or video not found; no email", { transcodeId: row.id, videoId: row.videoId });
    return null;
  }
  const recipient = {
    transcodeId: row.id,
    videoId: row.videoId,
    userId: row.userId,
    attempt: row.attempt,
    to: owner.email,
    ...(owner.name ? { name: owner.name.slice(0, 200) } : {}),
    filename: video.filename.slice(0, 255),
  };
  let message: TranscodeEmailMessage;
  if (row.status === T_SUCCESS) {
    const ttl = deps.config.emailLinkTtlSeconds;
    const view = await toTranscode(deps, row, video.filename, ttl);
    message = sendTranscodeSuccessMessage({
      ...recipient,
      files: view.outputs
        .filter((o) => o.format !== "hls")
        .map((o) => ({
          rendition: o.rendition,
          contentType: o.contentType,
          sizeBytes: o.sizeBytes,
          width: o.width,
          height: o.height,
          durationSeconds: o.durationSeconds,
          url: o.url,
        })),
      playbackUrl: view.playbackUrl,
      linksExpireAt: new Date(Date.now() + ttl * 1000).toISOString(),
    });
  } else {
    message = sendTranscodeErrorMessage({
      ...recipient,
      errorMessage: row.errorMessage ?? "The transcode failed.",
      errorDescription: row.errorDescription ?? "",
    });
  }
  // Validate against the shared contract before it leaves: a bad message is a bug here, not downstream.
  await deps.env.EMAIL_QUEUE.send(TranscodeEmailMessage.parse(message));
  deps.log.info("transcode outcome email queued", { transcodeId: row.id, attempt: row.attempt, type: message.type });
  return message;
}
