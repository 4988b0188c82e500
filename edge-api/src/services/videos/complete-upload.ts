/**
 * Marks an upload complete and queues its first extraction attempt.
 *
 * Rules: a multipart upload is first assembled from the request's parts (./complete-multipart-upload.ts;
 * 400 / 409 `upload-parts-invalid` when they do not fit, the upload stays open). Then the source object must exist (HEAD, 409 `upload-incomplete` otherwise) with the declared size
 * (409 `upload-size-mismatch`, the record stays pending). The record moves PENDING → QUEUED (attempt 1)
 * with a conditional update; only the request that changed the row sends MSG_EXTRACT_SNAPSHOT. When the
 * send fails the row goes back to PENDING and the answer is 503. The queued attempt gets its lease
 * (now + JOB_LEASE_SECONDS, ./leases.ts) in the same update. A call on a video already queued,
 * processing or done returns it unchanged and sends nothing (idempotent).
 */
import { and, eq } from "drizzle-orm";
import type { CompletedPart, Video } from "../../../../schema/api.ts";
import { videos } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { errorFields } from "../../log.ts";
import { ProblemError } from "../../errors.ts";
import { completeMultipartUpload } from "./complete-multipart-upload.ts";
import { buildExtractMessage } from "./extract-message.ts";
import { queuedLeaseExpiry } from "./lease-deadlines.ts";
import { getVideoRow } from "./get-video.ts";
import { toVideo } from "./serialize.ts";
import { COMPLETE_FROM, QUEUED } from "./state-machine.ts";
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
  if (row.status !== COMPLETE_FROM) return toVideo(row);
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

  const now = new Date();
  const [queued] = await deps.db
    .update(videos)
    .set({
      status: QUEUED,
      attempt: 1,
      queuedAt: now,
      updatedAt: now,
      leaseExpiresAt: queuedLeaseExpiry(deps.config, now),
      recoveries: 0,
    })
    .where(and(eq(videos.id, videoId), eq(videos.userId, userId), eq(videos.status, COMPLETE_FROM)))
    .returning();
  if (!queued) {
    // A concurrent call queued it first: answer the current state, send nothing.
    return toVideo(await getVideoRow(deps, userId, videoId));
  }

  try {
    await deps.env.EXTRACT_QUEUE.send(buildExtractMessage(queued));
  } catch (err) {
    deps.log.error("extract queue send failed; reverting to pending", { videoId, ...errorFields(err) });
    await deps.db
      .update(videos)
      .set({ status: COMPLETE_FROM, attempt: 0, queuedAt: null, leaseExpiresAt: null, updatedAt: new Date() })
      .where(and(eq(videos.id, videoId), eq(videos.userId, userId), eq(videos.status, QUEUED), eq(videos.attempt, 1)));
    throw new ProblemError("service-unavailable", "The job queue is unavailable; complete the upload again shortly.", {
      headers: { "retry-after": "5" },
      cause: err,
    });
  }
  deps.log.info("video queued", { videoId, attempt: 1 });
  return toVideo(queued);
}
