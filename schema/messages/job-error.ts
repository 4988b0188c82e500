/**
 * The failure fields every job kind's ERROR event carries (`MSG_EXTRACT_SNAPSHOT_ERROR`, `MSG_TRANSCODE_ERROR`,
 * `MSG_IMPORT_VIDEO_ERROR`), defined once with their limits, and the one function that cuts a failure's
 * texts to those limits, used by the processor and by the API when it fails a job on the processor's behalf.
 */
import { z } from "zod";

/** Longest `errorMessage` (one human sentence), characters. */
export const ERROR_MESSAGE_MAX_CHARS = 500;
/** Longest `errorDescription` (technical detail: ffmpeg's stderr tail, an S3 error), characters. */
export const ERROR_DESCRIPTION_MAX_CHARS = 4000;

/**
 * `retryable: true` marks a transient fault (storage unavailable, processor shutting down or unreachable):
 * the API re-queues the attempt with backoff while its retry budget lasts instead of recording ERROR
 * (edge-api/src/lifecycle/record-event.ts). Absent means permanent.
 */
export const JobErrorFields = z.object({
  errorMessage: z.string().min(1).max(ERROR_MESSAGE_MAX_CHARS),
  errorDescription: z.string().max(ERROR_DESCRIPTION_MAX_CHARS),
  retryable: z.boolean().optional(),
});
export type JobErrorFields = z.infer<typeof JobErrorFields>;

/** The ERROR fields of one failure, as built by {@link jobErrorFields}: `retryable` is present only when true. */
export interface JobFailure {
  errorMessage: string;
  errorDescription: string;
  retryable?: true;
}

/**
 * @param errorMessage one human sentence (cut to {@link ERROR_MESSAGE_MAX_CHARS})
 * @param errorDescription technical detail (cut to {@link ERROR_DESCRIPTION_MAX_CHARS})
 * @param opts `retryable` for a transient fault
 * @returns the ERROR fields, within the schema's limits, `retryable` present only when true
 */
export function jobErrorFields(errorMessage: string, errorDescription: string, opts: { retryable?: boolean } = {}): JobFailure {
  return {
    errorMessage: errorMessage.slice(0, ERROR_MESSAGE_MAX_CHARS),
    errorDescription: errorDescription.slice(0, ERROR_DESCRIPTION_MAX_CHARS),
    ...(opts.retryable ? { retryable: true } : {}),
  };
}
