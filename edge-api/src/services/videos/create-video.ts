/**
 * Creates a video record awaiting its upload and signs the PUT the client uploads the file with.
 * Rules: size 1..MAX_UPLOAD_BYTES bytes (413 above), extension/MIME per the allow-list (415), the
 * presigned PUT is bound to the declared content-type and content-length and lives UPLOAD_URL_TTL_SECONDS.
 * Above MULTIPART_THRESHOLD_BYTES the file is uploaded in parts instead: an S3 multipart upload is started
 * (./start-multipart-upload.ts) and its UploadId and part size are stored on the record. A `transcode` in
 * the body creates the video's first transcode, TRANSCODE_PENDING until `complete` queues it.
 */
import type { CreateVideoRequest, CreateVideoResponse } from "../../../../schema/api.ts";
import { videos } from "../../../../schema/db.ts";
import { DEFAULT_EXTRACTION_OPTIONS } from "../../../../schema/extraction-options.ts";
import { sourceObjectKey } from "../../../../schema/object-keys.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { insertTranscode } from "../transcodes/create-transcode.ts";
import { toTranscode } from "../transcodes/serialize.ts";
import { checkVideoType } from "./check-video-type.ts";
import { startMultipartUpload } from "./start-multipart-upload.ts";
import { toVideo } from "./serialize.ts";
import { PENDING } from "../../lifecycle/statuses.ts";
import { createdEvent } from "../../lifecycle/timeline.ts";

/**
 * @param userId owner of the new video
 * @param input validated request body (`sizeBytes` ≥ 1)
 * @returns the video (status VIDEO_UPLOAD_PENDING, attempt 0) and the upload instructions (`PUT`, or
 *   `MULTIPART` above MULTIPART_THRESHOLD_BYTES)
 * @throws ProblemError `file-too-large` (413), `unsupported-video-type` (415), `bad-gateway` (502, the
 *   storage did not start the multipart upload)
 */
export async function createVideo(deps: Deps, userId: string, input: CreateVideoRequest): Promise<CreateVideoResponse> {
  const { config } = deps;
  if (input.sizeBytes > config.maxUploadBytes) {
    throw new ProblemError(
      "file-too-large",
      `The file is ${input.sizeBytes} bytes; the limit is ${config.maxUploadBytes} bytes.`,
    );
  }
  const contentType = checkVideoType(input.filename, input.contentType, config.videoTypes);
  const id = crypto.randomUUID();
  const sourceKey = sourceObjectKey(userId, id);
  const now = new Date();
  const multipart =
    input.sizeBytes > config.multipartThresholdBytes
      ? await startMultipartUpload(deps, sourceKey, input.sizeBytes, contentType, now)
      : undefined;

  // The record and its first timeline row go together.
  const [[row]] = await deps.db.batch([
    deps.db
      .insert(videos)
      .values({
        id,
        userId,
        filename: input.filename,
        contentType,
        sizeBytes: input.sizeBytes,
        status: PENDING,
        options: input.options ?? DEFAULT_EXTRACTION_OPTIONS,
        attempt: 0,
        sourceKey,
        uploadId: multipart?.uploadId ?? null,
        uploadPartSizeBytes: multipart?.upload.partSizeBytes ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
    createdEvent(deps, { userId, videoId: id, jobKind: "video", status: PENDING, attempt: 0 }, { source: "user" }, now),
  ]);

  // A transcode asked with the upload waits (TRANSCODE_PENDING) until `complete` queues it.
  const transcode = input.transcode
    ? { transcode: await toTranscode(deps, await insertTranscode(deps, row!, input.transcode, now), input.filename, config.downloadUrlTtlSeconds) }
    : {};
  if (multipart) {
    deps.log.info("video created", { videoId: id, sizeBytes: input.sizeBytes, contentType, parts: multipart.upload.partCount });
    return { video: toVideo(row!), upload: multipart.upload, ...transcode };
  }
  const upload = await deps.storage.presignPut({
    bucket: config.videosBucket,
    key: sourceKey,
    contentType,
    contentLength: input.sizeBytes,
    ttlSeconds: config.uploadUrlTtlSeconds,
  });
  deps.log.info("video created", { videoId: id, sizeBytes: input.sizeBytes, contentType });
  return { video: toVideo(row!), upload: { method: "PUT", ...upload }, ...transcode };
}
