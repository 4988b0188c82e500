/**
 * The import's consumers: its job consumer (vidsnap-import, the processor relay of ./job-consumer.ts with
 * the extraction's deliveries and backoff), its events (MSG_IMPORT_VIDEO_PROCESSING / _PROGRESS / _SUCCESS /
 * _ERROR, arriving on the shared vidsnap-events queue) and its dead-letter queue (vidsnap-import-dlq).
 */
import { importJob } from "../lifecycle/import-job.ts";
import { deadLetterConsumer } from "./extract-dlq-consumer.ts";
import { EXTRACT_MAX_DELIVERIES, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS } from "./extract-consumer.ts";
import { eventConsumer } from "./events-consumer.ts";
import { jobConsumer } from "./job-consumer.ts";

/** Deliveries of one import message: 1 + `max_retries` (3) of vidsnap-import in wrangler.toml. */
export const IMPORT_MAX_DELIVERIES = EXTRACT_MAX_DELIVERIES;
/** errorMessage of the ERROR event sent when the processor could not take the import on its last delivery. */
export const IMPORT_PROCESSOR_UNAVAILABLE = "The video processor is unavailable";
/** errorMessage of an import whose job exhausted its deliveries. */
export const IMPORT_EXHAUSTED_ERROR_MESSAGE = "The video could not be imported after several attempts";

/** Handles one message of vidsnap-import; acks or retries it itself. */
export const consumeImport = jobConsumer(importJob, {
  maxDeliveries: IMPORT_MAX_DELIVERIES,
  backoff: { base: RETRY_BASE_SECONDS, max: RETRY_CAP_SECONDS },
  refusedMessage: "The video processor refused the import",
  unavailableMessage: IMPORT_PROCESSOR_UNAVAILABLE,
});

/** MSG_IMPORT_VIDEO_PROCESSING / _PROGRESS / _SUCCESS / _ERROR. */
export const consumeImportEvent = eventConsumer(importJob);

/** Dead-lettered MSG_IMPORT_VIDEO. */
export const consumeImportDeadLetter = deadLetterConsumer(
  importJob,
  IMPORT_EXHAUSTED_ERROR_MESSAGE,
  (attempt) => `The import job of attempt ${attempt} was dead-lettered: its deliveries on vidsnap-import ran out before it finished.`,
);
