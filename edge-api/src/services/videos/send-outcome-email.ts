/**
 * Queues the notification of a finished attempt on EMAIL_QUEUE (schema/messages/snapshot-email.ts):
 * MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS with a download link valid EMAIL_LINK_TTL_SECONDS (≤ 7 days, the
 * presign limit), MSG_SEND_SNAPSHOT_EXTRACTION_ERROR, or MSG_SEND_VIDEO_IMPORT_ERROR for a failed import. The email service deduplicates on
 * (videoId, attempt, outcome), so sending again for a redelivered event is safe. Only verified addresses
 * receive it (../users/outcome-email-recipient.ts).
 */
import {
  sendSnapshotExtractionErrorMessage,
  sendSnapshotExtractionSuccessMessage,
  sendVideoImportErrorMessage,
  SnapshotEmailMessage,
} from "../../../../schema/messages/index.ts";
import type { Deps } from "../../context.ts";
import { outcomeEmailRecipient } from "../users/outcome-email-recipient.ts";
import { presignArchive } from "./get-archive-url.ts";
import type { VideoRow } from "./serialize.ts";
import { ERROR, I_ERROR, SUCCESS } from "../../lifecycle/statuses.ts";

/**
 * @param video a record in SUCCESS, ERROR or VIDEO_IMPORT_ERROR
 * @returns the message sent, or null when nothing was sent (not terminal, the user is gone, or their
 *   address is not verified)
 * @throws whatever the queue send throws, or ZodError for a message off the contract (the caller retries)
 */
export async function sendOutcomeEmail(deps: Deps, video: VideoRow): Promise<SnapshotEmailMessage | null> {
  if (video.status !== SUCCESS && video.status !== ERROR && video.status !== I_ERROR) return null;
  const found = await outcomeEmailRecipient(deps, video.userId);
  if ("none" in found) {
    deps.log[found.none === "user-not-found" ? "warn" : "info"]("no outcome email", { videoId: video.id, reason: found.none });
    return null;
  }
  const owner = found.recipient;
  const recipient = {
    videoId: video.id,
    userId: video.userId,
    attempt: video.attempt,
    to: owner.email,
    ...(owner.name ? { name: owner.name.slice(0, 200) } : {}),
    filename: video.filename.slice(0, 255),
  };
  let message: SnapshotEmailMessage;
  if (video.status === SUCCESS) {
    const link = await presignArchive(deps, video, deps.config.emailLinkTtlSeconds);
    message = sendSnapshotExtractionSuccessMessage({
      ...recipient,
      imageCount: video.imageCount ?? 0,
      zipSizeBytes: video.zipSizeBytes ?? 0,
      downloadUrl: link.url,
      downloadUrlExpiresAt: link.expiresAt,
      ...(video.warnings && video.warnings.length > 0 ? { warnings: video.warnings } : {}),
    });
  } else if (video.status === I_ERROR) {
    message = sendVideoImportErrorMessage({
      ...recipient,
      sourceUrl: (video.sourceUrl ?? "").slice(0, 2048),
      errorMessage: video.errorMessage ?? "The import failed.",
      errorDescription: video.errorDescription ?? "",
    });
  } else {
    message = sendSnapshotExtractionErrorMessage({
      ...recipient,
      errorMessage: video.errorMessage ?? "The image extraction failed.",
      errorDescription: video.errorDescription ?? "",
    });
  }
  // Validate against the shared contract before it leaves: a bad message is a bug here, not downstream.
  await deps.env.EMAIL_QUEUE.send(SnapshotEmailMessage.parse(message));
  deps.log.info("outcome email queued", { videoId: video.id, attempt: video.attempt, type: message.type });
  return message;
}
