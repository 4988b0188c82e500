/**
 * Consumer of the extraction dead-letter queue (vidsnap-extract-dlq): a MSG_EXTRACT_SNAPSHOT that used up
 * its deliveries on vidsnap-extract (max_retries in wrangler.toml) without being acked, e.g. because the
 * events queue or D1 kept failing. Such a job will never run, so its video must not stay queued forever.
 *
 * The job becomes an ERROR event of its (video, attempt) — {@link EXHAUSTED_ERROR_MESSAGE} — applied
 * through the same path as the processor's ERROR events (services/videos/record-processor-event.ts: state
 * machine, then the error email). So it only changes a video still QUEUED or PROCESSING in that attempt;
 * a video that finished, moved on to another attempt or was deleted is left as it is.
 * Invalid messages are logged and acked; D1 or queue failures throw and the caller retries the message.
 */
import { ExtractSnapshotMessage, type ExtractSnapshotErrorMessage } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { parseOrDrop } from "./parse-message.ts";
import { recordProcessorEvent } from "../services/videos/record-processor-event.ts";

/** errorMessage of a video whose extraction job exhausted its deliveries. */
export const EXHAUSTED_ERROR_MESSAGE = "The image could not be processed after several attempts";

/** Handles one dead-lettered job; acks it, or throws for a retry. */
export async function consumeExtractDeadLetter(message: Message<unknown>, deps: Deps): Promise<void> {
  const job = parseOrDrop(ExtractSnapshotMessage, message, deps, "dead-lettered MSG_EXTRACT_SNAPSHOT");
  if (!job) return;
  const { videoId, userId, attempt } = job.payload;
  const log = deps.log.child({ videoId, userId, attempt });
  const event: ExtractSnapshotErrorMessage = {
    type: "MSG_EXTRACT_SNAPSHOT_ERROR",
    sender: "VIDEO_IMAGE_PROCESSOR_SERVICE",
    target: "VIDEO_API_SERVICE",
    payload: {
      videoId,
      userId,
      attempt,
      errorMessage: EXHAUSTED_ERROR_MESSAGE,
      errorDescription: `The extraction job of attempt ${attempt} was dead-lettered: its deliveries on vidsnap-extract ran out before it finished.`,
    },
  };
  const outcome = await recordProcessorEvent({ ...deps, log }, event);
  log.warn("dead-lettered extraction job handled", { result: outcome.result, status: outcome.video?.status });
  message.ack();
}
