/**
 * The extraction's job consumer (vidsnap-extract): the processor relay of ./job-consumer.ts with the
 * extraction's deliveries, its backoff (10·2^(n−1) s capped at 300 s, n = deliveries so far) and its ERROR texts.
 */
import { backoffDelay, type BackoffPolicy } from "../../../runtime/backoff.ts";
import { extractJob } from "../lifecycle/extract-job.ts";
import { jobConsumer } from "./job-consumer.ts";

/** Deliveries of one extraction message: 1 + `max_retries` (3) of vidsnap-extract in wrangler.toml. */
export const EXTRACT_MAX_DELIVERIES = 4;
/** First retry delay, seconds; doubled on each further delivery. */
export const RETRY_BASE_SECONDS = 10;
/** Longest retry delay, seconds. */
export const RETRY_CAP_SECONDS = 300;
/** errorMessage of the ERROR event sent when the processor could not take the job on its last delivery. */
export const PROCESSOR_UNAVAILABLE = "The image processor is unavailable";

const BACKOFF: BackoffPolicy = { base: RETRY_BASE_SECONDS, max: RETRY_CAP_SECONDS };

/** Delay before the next delivery after `deliveries` deliveries (1-based), seconds. */
export function retryDelaySeconds(deliveries: number): number {
  return backoffDelay(deliveries, BACKOFF);
}

/** Handles one message of vidsnap-extract; acks or retries it itself. */
export const consumeExtract = jobConsumer(extractJob, {
  maxDeliveries: EXTRACT_MAX_DELIVERIES,
  backoff: BACKOFF,
  refusedMessage: "The image processor refused the job",
  unavailableMessage: PROCESSOR_UNAVAILABLE,
});
