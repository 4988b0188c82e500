/**
 * Queues a new attempt of a failed transcode (TRANSCODE_ERROR → TRANSCODE_QUEUED with attempt + 1, through
 * ../../lifecycle/transitions.ts). A failed send restores the failed attempt and answers 503.
 */
import type { Transcode } from "../../../../schema/api.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { T_ERROR } from "../../lifecycle/statuses.ts";
import { transcodeJob } from "../../lifecycle/transcode-job.ts";
import { queueAttempt, QueueSendError } from "../../lifecycle/transitions.ts";
import { getVideoRow } from "../videos/get-video.ts";
import { getTranscodeRow } from "./get-transcode.ts";
import { toTranscode } from "./serialize.ts";

/**
 * @returns the transcode, QUEUED with the new attempt
 * @throws ProblemError `not-found` (404), `conflict` (409, not in TRANSCODE_ERROR or changed meanwhile),
 *   `service-unavailable` (503)
 */
export async function retryTranscode(deps: Deps, userId: string, videoId: string, transcodeId: string): Promise<Transcode> {
  const video = await getVideoRow(deps, userId, videoId);
  const before = await getTranscodeRow(deps, userId, videoId, transcodeId);
  if (before.status !== T_ERROR) {
    throw new ProblemError("conflict", `Only a failed transcode can be retried; this one is ${before.status}.`);
  }
  let queued;
  try {
    queued = await queueAttempt(deps, transcodeJob, before, "retry");
  } catch (err) {
    if (!(err instanceof QueueSendError)) throw err;
    throw new ProblemError("service-unavailable", "The job queue is unavailable; retry again shortly.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
  if (!queued) throw new ProblemError("conflict", "The transcode changed while retrying (a concurrent retry?); fetch it and try again.");
  return toTranscode(deps, queued, video.filename, deps.config.downloadUrlTtlSeconds);
}
