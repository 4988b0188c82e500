/**
 * The transcode's consumers: its job consumer (vidsnap-transcode, the processor relay of ./job-consumer.ts
 * with the extraction's deliveries and backoff), its events (MSG_TRANSCODE_PROCESSING / _PROGRESS / _SUCCESS
 * / _ERROR, arriving on the shared vidsnap-events queue) and its dead-letter queue (vidsnap-transcode-dlq).
 */
import { transcodeJob } from "../lifecycle/transcode-job.ts";
import { deadLetterConsumer } from "./extract-dlq-consumer.ts";
import { EXTRACT_MAX_DELIVERIES, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS } from "./extract-consumer.ts";
import { eventConsumer } from "./events-consumer.ts";
import { jobConsumer } from "./job-consumer.ts";

/** Deliveries of one transcode message: 1 + `max_retries` (3) of vidsnap-transcode in wrangler.toml. */
export const TRANSCODE_MAX_DELIVERIES = EXTRACT_MAX_DELIVERIES;
/** errorMessage of the ERROR event sent when the processor could not take the job on its last delivery. */
export const TRANSCODE_PROCESSOR_UNAVAILABLE = "The video processor is unavailable";
/** errorMessage of a transcode whose job exhausted its deliveries. */
export const TRANSCODE_EXHAUSTED_ERROR_MESSAGE = "The video could not be transcoded after several attempts";

/** Handles one message of vidsnap-transcode; acks or retries it itself. */
export const consumeTranscode = jobConsumer(transcodeJob, {
  maxDeliveries: TRANSCODE_MAX_DELIVERIES,
  backoff: { base: RETRY_BASE_SECONDS, max: RETRY_CAP_SECONDS },
  refusedMessage: "The video processor refused the transcode",
  unavailableMessage: TRANSCODE_PROCESSOR_UNAVAILABLE,
});

/** MSG_TRANSCODE_PROCESSING / _PROGRESS / _SUCCESS / _ERROR. */
export const consumeTranscodeEvent = eventConsumer(transcodeJob);

/** Dead-lettered MSG_TRANSCODE. */
export const consumeTranscodeDeadLetter = deadLetterConsumer(
  transcodeJob,
  TRANSCODE_EXHAUSTED_ERROR_MESSAGE,
  (attempt) => `The transcode job of attempt ${attempt} was dead-lettered: its deliveries on vidsnap-transcode ran out before it finished.`,
);
