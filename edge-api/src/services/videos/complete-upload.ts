/**
 * Marks an upload complete and queues its first extraction attempt.
 *
 * Rules: a multipart upload is first assembled from the request's parts (./complete-multipart-upload.ts;
 * 400 / 409 `upload-parts-invalid` when they do not fit, the upload stays open). Then the source object
 * must exist (HEAD, 409 `upload-incomplete` otherwise) with the declared size (409 `upload-size-mismatch`,
 * the record stays pending). Its ETag is recorded on the record (`source_etag`): the processor reads the
 * source only while it still has it (If-Match), since the upload URL stays valid after this check and the
 * object could be replaced before the job reads it (issue 18 item 7). Then the lifecycle queues attempt 1 (../../lifecycle/transitions.ts); only
 * the request that changed the row sends the job, a failed send reverts it (503). A call on a video
 * already queued, processing or done returns it unchanged and sends nothing (idempotent). Every call then
 * queues the video's transcodes still TRANSCODE_PENDING (asked before the upload was completed).
 */
import { and, eq } from "drizzle-orm";
import type { CompletedPart, Video } from "../../../../schema/api.ts";
import { videos } from "../../../../schema/db.ts";
import { ObjectEtag } from "../../../../schema/messages/extract-snapshot.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { extractJob } from "../../lifecycle/extract-job.ts";
import { PENDING } from "../../lifecycle/statuses.ts";
import { queueAttempt, QueueSendError } from "../../lifecycle/transitions.ts";
import { startPendingTranscodes } from "../transcodes/start-pending-transcodes.ts";
import { completeMultipartUpload } from "./complete-multipart-upload.ts";
import { getVideoRow } from "./get-video.ts";
import { toVideo, type VideoRow } from "./serialize.ts";
import { withStorage } from "./storage-problem.ts";

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
  if (row.status !== PENDING) {
    await startTranscodesOf(deps, row);
    return toVideo(row);
  }
  if (row.uploadId && row.uploadPartSizeBytes) await completeMultipartUpload(deps, row, parts);

  const head = await withStorage("checking the upload", () =>
    deps.storage.headObject(deps.config.videosBucket, row.sourceKey),
  );
  if (!head) {
    throw new ProblemError("upload-incomplete", "The file has not been uploaded yet: PUT it to the upload URL first.");
  }
  if (head.sizeBytes !== row.sizeBytes) {
    throw new ProblemError(
      "upload-size-mismatch",
      `The uploaded file is ${head.sizeBytes} bytes but ${row.sizeBytes} were declared.`,
    );
  }

  // An ETag the store did not send, or one that could not travel as a header, leaves the read unconditional.
  const sourceEtag = head.etag && ObjectEtag.safeParse(head.etag).success ? head.etag : null;
  if (!sourceEtag) deps.log.warn("source object has no usable ETag; it will be read without If-Match", { videoId });
  await deps.db
    .update(videos)
    .set({ sourceEtag })
    .where(and(eq(videos.id, row.id), eq(videos.userId, userId), eq(videos.status, PENDING)));

  let queued: VideoRow | undefined;
  try {
    queued = await queueAttempt(deps, extractJob, { ...row, sourceEtag }, "start");
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
