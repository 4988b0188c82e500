/**
 * Consumer of a job kind's dead-letter queue (vidsnap-extract-dlq for the extraction): a job message that
 * used up its deliveries (max_retries in wrangler.toml) without being acked, e.g. because the events queue
 * or D1 kept failing. Such a job will never run, so it must not stay queued forever: it becomes an ERROR
 * event of its attempt (sender API_SERVICE), applied like the processor's own errors
 * (../lifecycle/record-event.ts), so it changes only a job still queued or processing in that attempt.
 * Invalid messages are logged and acked; D1 or queue failures throw and the caller retries the message.
 */
import type { Deps } from "../context.ts";
import { extractJob } from "../lifecycle/extract-job.ts";
import type { JobKind, JobRow } from "../lifecycle/job-kind.ts";
import { recordEvent } from "../lifecycle/record-event.ts";
import { parseOrDrop } from "./parse-message.ts";

/** errorMessage of a video whose extraction job exhausted its deliveries. */
export const EXHAUSTED_ERROR_MESSAGE = "The image could not be processed after several attempts";

/**
 * @param errorMessage the ERROR event's errorMessage
 * @param errorDescription its errorDescription, by attempt
 * @returns the consumer; each call acks its message, or throws for a retry
 */
export function deadLetterConsumer<Row extends JobRow, Event, Job>(
  kind: JobKind<Row, Event, Job>,
  errorMessage: string,
  errorDescription: (attempt: number) => string,
) {
  return async (message: Message<unknown>, deps: Deps): Promise<void> => {
    const job = parseOrDrop(kind.schemas.job, message, deps, `dead-lettered ${kind.name} job`);
    if (!job) return;
    const ref = kind.jobRef(job);
    const log = deps.log.child({ job: kind.name, id: ref.id, userId: ref.userId, attempt: ref.attempt });
    const event = kind.errorEvent(ref, errorMessage, errorDescription(ref.attempt));
    const outcome = await recordEvent({ ...deps, log }, kind, event);
    log.warn("dead-lettered job handled", { result: outcome.result, status: outcome.row?.status });
    message.ack();
  };
}

/** Dead-lettered MSG_EXTRACT_SNAPSHOT. */
export const consumeExtractDeadLetter = deadLetterConsumer(
  extractJob,
  EXHAUSTED_ERROR_MESSAGE,
  (attempt) =>
    `The extraction job of attempt ${attempt} was dead-lettered: its deliveries on vidsnap-extract ran out before it finished.`,
);
