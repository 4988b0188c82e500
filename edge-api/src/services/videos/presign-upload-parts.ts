/**
 * Presigns PUT URLs for parts of a video's multipart upload (`POST /v1/videos/{id}/upload-parts`).
 *
 * Rules: owner-scoped (404 otherwise); only while the video is VIDEO_UPLOAD_PENDING with a multipart
 * upload (409 `conflict` otherwise); part numbers 1..partCount (400 `bad-request` otherwise); each URL is
 * bound to the video's object, its UploadId, the part number and the part's exact size (signed
 * `content-length`), and lives UPLOAD_URL_TTL_SECONDS. URLs can be asked again at any time (resume,
 * expiry): a part PUT twice keeps the last body.
 */
import type { UploadPartUrl } from "../../../../schema/api.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { getMultipartVideo } from "./get-multipart-video.ts";
import { multipartPartSize } from "./plan-multipart-upload.ts";

/**
 * @param partNumbers 1..partCount, at most 100 (validated by the route); duplicates are answered once
 * @returns one presigned URL per distinct part number, ascending
 * @throws ProblemError `not-found` (404), `conflict` (409), `bad-request` (400)
 */
export async function presignUploadParts(
  deps: Deps,
  userId: string,
  videoId: string,
  partNumbers: readonly number[],
): Promise<UploadPartUrl[]> {
  const { row, uploadId, plan } = await getMultipartVideo(deps, userId, videoId);
  const wanted = [...new Set(partNumbers)].sort((a, b) => a - b);
  const outside = wanted.filter((n) => n < 1 || n > plan.partCount);
  if (outside.length > 0) {
    throw new ProblemError("bad-request", `Part numbers must be 1..${plan.partCount}; got ${outside.slice(0, 5).join(", ")}.`);
  }
  return Promise.all(
    wanted.map(async (partNumber) => ({
      partNumber,
      ...(await deps.storage.presignUploadPart({
        bucket: deps.config.videosBucket,
        key: row.sourceKey,
        uploadId,
        partNumber,
        contentLength: multipartPartSize(row.sizeBytes, plan, partNumber),
        ttlSeconds: deps.config.uploadUrlTtlSeconds,
      })),
    })),
  );
}
