/**
 * Queues MSG_SEND_VIDEO_GENERATION_ERROR for a video in VIDEO_GENERATION_ERROR (schema/messages/snapshot-email.ts):
 * the generator's name, the error sentence and its detail (the generator's own text, bounded here and escaped by
 * the email templates). Deduplicated by the email service on (videoId, 0, "error"). Only verified addresses
 * receive it (../users/outcome-email-recipient.ts).
 */
import { eq } from "drizzle-orm";
import { generations, generators } from "../../../../schema/db.ts";
import { SendVideoGenerationErrorMessage, sendVideoGenerationErrorMessage } from "../../../../schema/messages/index.ts";
import type { Deps } from "../../context.ts";
import { outcomeEmailRecipient } from "../users/outcome-email-recipient.ts";
import type { VideoRow } from "../videos/serialize.ts";

/** Longest error detail put into the email, characters. */
const MAX_DESCRIPTION_CHARS = 2000;

/**
 * @param video the row in VIDEO_GENERATION_ERROR
 * @returns whether a message was queued (false: no verified recipient)
 * @throws whatever the queue send throws
 */
export async function sendGenerationErrorEmail(deps: Deps, video: VideoRow): Promise<boolean> {
  const found = await outcomeEmailRecipient(deps, video.userId);
  if ("none" in found) {
    deps.log.info("no generation error email", { videoId: video.id, reason: found.none });
    return false;
  }
  const [gen] = await deps.db
    .select({ name: generators.name })
    .from(generations)
    .leftJoin(generators, eq(generators.id, generations.generatorId))
    .where(eq(generations.id, video.id))
    .limit(1);
  const owner = found.recipient;
  const message = sendVideoGenerationErrorMessage({
    videoId: video.id,
    userId: video.userId,
    attempt: video.attempt,
    to: owner.email,
    ...(owner.name ? { name: owner.name.slice(0, 200) } : {}),
    filename: video.filename.slice(0, 255),
    generatorName: (gen?.name ?? "a deleted generator").slice(0, 100),
    errorMessage: video.errorMessage ?? "The generation failed.",
    errorDescription: (video.errorDescription ?? "").slice(0, MAX_DESCRIPTION_CHARS),
  });
  await deps.env.EMAIL_QUEUE.send(SendVideoGenerationErrorMessage.parse(message));
  deps.log.info("generation error email queued", { videoId: video.id });
  return true;
}
