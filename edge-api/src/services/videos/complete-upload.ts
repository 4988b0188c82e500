/**
 * Marks an upload complete and queues its first extraction attempt.
 *
 * Rules: a multipart upload is first assembled from the request's parts (./complete-multipart-upload.ts;
 * 400 / 409 `upload-parts-invalid` when they do not fit, the upload stays open). Then the source object is
 * checked and its ETag recorded (./check-source.ts; 409 `upload-incomplete` / `upload-size-mismatch`, the
 * record stays pending). Then the lifecycle queues attempt 1 (../../lifecycle/transitions.ts); only
 * the request that changed the row sends the job, a failed send reverts it (503). A call on a video
 * already queued, processing or done returns it unchanged and sends nothing (idempotent). Every call then
 * queues the video's transcodes still TRANSCODE_PENDING (asked before the upload was completed), except on an
 * import whose source is not stored yet (VIDEO_IMPORT_*): that one is answered unchanged, and the stored
 * import takes this path itself (../../lifecycle/import-job.ts).
 */
import type { CompletedPart, Video } from "../../../../schema/api.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { extractJob } from "../../lifecycle/extract-job.ts";
import { PENDING, SOURCE_NOT_STORED } from "../../lifecycle/statuses.ts";
import { queueAttempt, QueueSendError } from "../../lifecycle/transitions.ts";
import { startPendingTranscodes } from "../transcodes/start-pending-transcodes.ts";
import { checkSource } from "./check-source.ts";
import { completeMultipartUpload } from "./complete-multipart-upload.ts";
import { getVideoRow } from "./get-video.ts";
import { toVideo, type VideoRow } from "./serialize.ts";

/**
 * @param parts the parts of a multipart upload (`{partNumber, etag}`, 1..partCount); ignored for a single PUT
 * @returns the video after the call (QUEUED when this call queued it)
 * @throws ProblemError `not-found` (404), `bad-request` (400, parts missing for a multipart upload),
 *   `upload-incomplete` / `upload-size-mismatch` / `upload-parts-invalid` (409),
 *   `bad-gateway` (502, storage unreachable), `service-unavailable` (503, queue send failed)
 */
export async function completeUpload(
  deps: Deps,
  userId: string,
  videoId: string,
  parts?: readonly CompletedPart[],
): Promise<Video> {
  const row = await getVideoRow(deps, userId, videoId);
  if (row.status !== PENDING && SOURCE_NOT_STORED.includes(row.status)) return toVideo(row);
  if (row.status !== PENDING) {
    await startTranscodesOf(deps, row);
    return toVideo(row);
  }
  if (row.uploadId && row.uploadPartSizeBytes) await completeMultipartUpload(deps, row, parts);

  const checked = await checkSource(deps, row, PENDING);

  let queued: VideoRow | undefined;
  try {
    queued = await queueAttempt(deps, extractJob, checked, "start");
  } catch (err) {
    if (!(err instanceof QueueSendError)) throw err;
    throw new ProblemError("service-unavailable", "The job queue is unavailable; complete the upload again shortly.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
  await startTranscodesOf(deps, row);
  // Not queued: a concurrent call queued it first; answer the current state, send nothing.
  return toVideo(queued ?? (await getVideoRow(deps, userId, videoId)));
}

/**
 * Queues the transcodes that waited for this upload (../transcodes/start-pending-transcodes.ts).
 * @throws ProblemError `service-unavailable` (503) when a send failed: the next `complete` call starts the rest
 */
async function startTranscodesOf(deps: Deps, video: VideoRow): Promise<void> {
  try {
    await startPendingTranscodes(deps, video);
  } catch (err) {
    if (!(err instanceof QueueSendError)) throw err;
    throw new ProblemError("service-unavailable", "The job queue is unavailable; complete the upload again shortly to start its transcodes.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
}
