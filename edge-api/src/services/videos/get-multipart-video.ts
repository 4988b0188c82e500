/**
 * Reads a video of one user whose multipart upload is still open: VIDEO_UPLOAD_PENDING with an UploadId.
 * Shared by ./presign-upload-parts.ts and ./list-upload-parts.ts.
 */
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { getVideoRow } from "./get-video.ts";
import type { MultipartPlan } from "./plan-multipart-upload.ts";
import type { VideoRow } from "./serialize.ts";
import { PENDING } from "../../lifecycle/statuses.ts";

/**
 * @returns the row, its UploadId and its part geometry
 * @throws ProblemError `not-found` (404, also for another user's video), `conflict` (409) when the video
 *   is past the upload or was created for a single PUT
 */
export async function getMultipartVideo(
  deps: Deps,
  userId: string,
  videoId: string,
): Promise<{ row: VideoRow; uploadId: string; plan: MultipartPlan }> {
  const row = await getVideoRow(deps, userId, videoId);
  if (row.status !== PENDING) {
    throw new ProblemError("conflict", `The video is ${row.status}: its upload is already complete.`);
  }
  if (!row.uploadId || !row.uploadPartSizeBytes) {
    throw new ProblemError("conflict", "This video is uploaded with a single PUT, not in parts.");
  }
  const partSizeBytes = row.uploadPartSizeBytes;
  return { row, uploadId: row.uploadId, plan: { partSizeBytes, partCount: Math.max(1, Math.ceil(row.sizeBytes / partSizeBytes)) } };
}
