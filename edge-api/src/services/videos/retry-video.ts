/**
 * Queues a new extraction attempt of a failed video (ERROR → QUEUED with attempt + 1, through
 * ../../lifecycle/transitions.ts), after checking its uploaded object again and recording its ETag
 * (./check-source.ts: the owner may have uploaded corrected bytes through the same URL). A failed import
 * (VIDEO_IMPORT_ERROR) is queued again as a new import attempt instead (its source is not stored yet). A
 * failed send restores the failed attempt and answers 503.
 */
import type { Video } from "../../../../schema/api.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { extractJob } from "../../lifecycle/extract-job.ts";
import { importJob } from "../../lifecycle/import-job.ts";
import { ERROR, I_ERROR } from "../../lifecycle/statuses.ts";
import { queueAttempt, QueueSendError } from "../../lifecycle/transitions.ts";
import { checkSource } from "./check-source.ts";
import { getVideoRow } from "./get-video.ts";
import { toVideo } from "./serialize.ts";

/**
 * @returns the video, QUEUED (VIDEO_IMPORT_QUEUED for a failed import) with the new attempt
 * @throws ProblemError `not-found` (404), `conflict` (409, not in ERROR or changed meanwhile),
 *   `upload-incomplete` / `upload-size-mismatch` (409, the object is gone or has another size), `bad-gateway`
 *   (502, storage unreachable), `service-unavailable` (503)
 */
export async function retryVideo(deps: Deps, userId: string, videoId: string): Promise<Video> {
  const before = await getVideoRow(deps, userId, videoId);
  if (before.status !== ERROR && before.status !== I_ERROR) {
    throw new ProblemError("conflict", `Only a video whose extraction or import failed can be retried; this one is ${before.status}.`);
  }
  let queued;
  try {
    queued =
      before.status === I_ERROR
        ? await queueAttempt(deps, importJob, before, "retry")
        : await queueAttempt(deps, extractJob, await checkSource(deps, before, ERROR), "retry");
  } catch (err) {
    if (!(err instanceof QueueSendError)) throw err;
    throw new ProblemError("service-unavailable", "The job queue is unavailable; retry again shortly.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
  if (!queued) {
    throw new ProblemError("conflict", "The video changed while retrying (a concurrent retry?); fetch it and try again.");
  }
  return toVideo(queued);
}
