/**
 * Lists the parts the storage holds for a video's open multipart upload (`GET /v1/videos/{id}/upload-parts`,
 * S3 ListParts), so a client can resume an interrupted upload without local state.
 *
 * Rules: owner-scoped (404), only while VIDEO_UPLOAD_PENDING with a multipart upload (409); parts outside
 * 1..partCount are not listed (they cannot be part of the completion).
 */
import type { StoredParts } from "../../../../schema/api.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { getMultipartVideo } from "./get-multipart-video.ts";
import { withStorage } from "./storage-problem.ts";
import { StorageError } from "../../storage/s3.ts";

/**
 * @returns the upload's part size and count, and the stored parts (number, ETag, size) ascending
 * @throws ProblemError `not-found` (404), `conflict` (409; also when the storage no longer knows the
 *   upload), `bad-gateway` (502)
 */
export async function listUploadParts(deps: Deps, userId: string, videoId: string): Promise<StoredParts> {
  const { row, uploadId, plan } = await getMultipartVideo(deps, userId, videoId);
  const parts = await withStorage("listing the uploaded parts", async () => {
    try {
      return await deps.storage.listParts(deps.config.videosBucket, row.sourceKey, uploadId);
    } catch (err) {
      if (err instanceof StorageError && (err.code === "NoSuchUpload" || err.status === 404)) {
        throw new ProblemError("conflict", "The storage no longer holds this upload: create the video again.", { cause: err });
      }
      throw err;
    }
  });
  return { ...plan, parts: parts.filter((p) => p.partNumber >= 1 && p.partNumber <= plan.partCount) };
}
