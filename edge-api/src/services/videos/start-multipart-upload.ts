/**
 * Starts the S3 multipart upload of a new video's source object (files above MULTIPART_THRESHOLD_BYTES),
 * for ./create-video.ts. The UploadId is stored on the video (`videos.upload_id`); the client then asks
 * part URLs from ./presign-upload-parts.ts and completes with ./complete-multipart-upload.ts.
 */
import type { MultipartUploadInstructions } from "../../../../schema/api.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { planMultipartUpload } from "./plan-multipart-upload.ts";
import { withStorage } from "./storage-problem.ts";

/**
 * @param key source object key of the video
 * @param sizeBytes declared size (already checked against MAX_UPLOAD_BYTES)
 * @param contentType checked MIME type, stored as the object's Content-Type
 * @param createdAt the video's creation time: the upload must be completed before
 *   createdAt + UPLOAD_PENDING_TTL_SECONDS (the stale-upload cron deletes it and aborts the upload then)
 * @returns the UploadId to store and the instructions answered to the client
 * @throws ProblemError `file-too-large` (413) beyond 10,000 parts of 5 GiB, `bad-gateway` (502) when the
 *   storage does not answer
 */
export async function startMultipartUpload(
  deps: Deps,
  key: string,
  sizeBytes: number,
  contentType: string,
  createdAt: Date,
): Promise<{ uploadId: string; upload: MultipartUploadInstructions }> {
  let plan;
  try {
    plan = planMultipartUpload(sizeBytes, deps.config.multipartPartSizeBytes);
  } catch (err) {
    throw new ProblemError("file-too-large", `The file is ${sizeBytes} bytes: too large for a multipart upload.`, { cause: err });
  }
  const uploadId = await withStorage("starting the upload", () =>
    deps.storage.createMultipartUpload(deps.config.videosBucket, key, contentType),
  );
  const expiresAt = new Date(createdAt.getTime() + deps.config.uploadPendingTtlSeconds * 1000).toISOString();
  return { uploadId, upload: { method: "MULTIPART", ...plan, expiresAt } };
}
