/**
 * Consumer of the extraction dead-letter queue (vidsnap-extract-dlq): a MSG_EXTRACT_SNAPSHOT that used up
 * its deliveries on vidsnap-extract (max_retries in wrangler.toml) without being acked, e.g. because the
 * events queue or D1 kept failing. Such a job will never run, so its video must not stay queued forever:
 * it becomes an ERROR event of its attempt ({@link EXHAUSTED_ERROR_MESSAGE}, sender API_SERVICE), applied
 * like the processor's own errors (../lifecycle/record-event.ts), so it changes only a video still queued
 * or processing in that attempt. Invalid messages are logged and acked; D1 or queue failures throw and
 * the caller retries the message.
 */
import { ExtractSnapshotMessage } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { extractJob } from "../lifecycle/extract-job.ts";
import { recordEvent } from "../lifecycle/record-event.ts";
import { parseOrDrop } from "./parse-message.ts";

/** errorMessage of a video whose extraction job exhausted its deliveries. */
export const EXHAUSTED_ERROR_MESSAGE = "The image could not be processed after several attempts";

/** Handles one dead-lettered job; acks it, or throws for a retry. */
export async function consumeExtractDeadLetter(message: Message<unknown>, deps: Deps): Promise<void> {
  const job = parseOrDrop(ExtractSnapshotMessage, message, deps, "dead-lettered MSG_EXTRACT_SNAPSHOT");
  if (!job) return;
  const { videoId, userId, attempt } = job.payload;
  const log = deps.log.child({ videoId, userId, attempt });
  const event = extractJob.errorEvent(
    { id: videoId, userId, attempt },
    EXHAUSTED_ERROR_MESSAGE,
    `The extraction job of attempt ${attempt} was dead-lettered: its deliveries on vidsnap-extract ran out before it finished.`,
  );
  const outcome = await recordEvent({ ...deps, log }, extractJob, event);
  log.warn("dead-lettered extraction job handled", { result: outcome.result, status: outcome.row?.status });
  message.ack();
}
