/**
 * Assembles the source object of a multipart video from the client's parts (S3 CompleteMultipartUpload),
 * for ./complete-upload.ts, before its usual checks (object exists, declared size).
 *
 * Rules:
 * - The parts must be exactly 1..partCount, each once, with an ETag (400 `bad-request` otherwise): the
 *   storage accepts any ascending subset, which would assemble a file of another size.
 * - A part the storage refuses (unknown part, wrong ETag, a part but the last under 5 MiB) → 409
 *   `upload-parts-invalid`; the upload stays open, so the client can PUT the part again and retry.
 * - Once assembled, the UploadId is cleared on the record (conditional on the same UploadId), so a retried
 *   `complete` (e.g. after a queue failure) goes straight to the object checks: idempotent.
 * - `NoSuchUpload` means a concurrent `complete` assembled it first (the object exists: fine) or the upload
 *   is gone (409 `upload-incomplete`).
 */
import { and, eq } from "drizzle-orm";
import type { CompletedPart } from "../../../../schema/api.ts";
import { videos } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { StorageError } from "../../storage/s3.ts";
import type { VideoRow } from "./serialize.ts";
import { withStorage } from "./storage-problem.ts";

/** S3 error codes meaning the client's parts list does not match what is stored. */
const PART_CODES = new Set(["InvalidPart", "InvalidPartOrder", "EntityTooSmall", "EntityTooLarge"]);

/**
 * @param row a PENDING video with `uploadId` and `uploadPartSizeBytes` set, owned by the caller
 * @param parts the request's `parts` (undefined when the body had none)
 * @returns once the object is assembled (or was by a concurrent call)
 * @throws ProblemError `bad-request` (400), `upload-parts-invalid` (409), `upload-incomplete` (409),
 *   `bad-gateway` (502)
 */
export async function completeMultipartUpload(deps: Deps, row: VideoRow, parts: readonly CompletedPart[] | undefined): Promise<void> {
  const uploadId = row.uploadId!;
  const partCount = Math.max(1, Math.ceil(row.sizeBytes / row.uploadPartSizeBytes!));
  if (!parts || parts.length === 0) {
    throw new ProblemError("bad-request", `This video is uploaded in ${partCount} parts: send {parts: [{partNumber, etag}]} for parts 1..${partCount}.`);
  }
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const wrong = sorted.findIndex((p, i) => p.partNumber !== i + 1);
  if (sorted.length !== partCount || wrong !== -1) {
    const have = new Set(sorted.map((p) => p.partNumber));
    const missing = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !have.has(n));
    throw new ProblemError(
      "bad-request",
      missing.length > 0
        ? `Parts missing: ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", …" : ""} (expected 1..${partCount}, each once).`
        : `Expected parts 1..${partCount}, each once.`,
    );
  }

  await withStorage("assembling the upload", async () => {
    try {
      await deps.storage.completeMultipartUpload(deps.config.videosBucket, row.sourceKey, uploadId, sorted);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      if (err.code && PART_CODES.has(err.code)) {
        throw new ProblemError(
          "upload-parts-invalid",
          `The storage refused the parts (${err.code}): upload the parts again (every part but the last ${row.uploadPartSizeBytes} bytes) and complete with the ETags their PUTs answered.`,
          { cause: err },
        );
      }
      if (err.code === "NoSuchUpload" || err.status === 404) {
        // Assembled by a concurrent call, or gone: the object checks of complete-upload.ts decide.
        deps.log.warn("multipart upload not found at completion", { videoId: row.id });
        return;
      }
      throw err;
    }
  });
  await deps.db
    .update(videos)
    .set({ uploadId: null, updatedAt: new Date() })
    .where(and(eq(videos.id, row.id), eq(videos.userId, row.userId), eq(videos.uploadId, uploadId)));
  deps.log.info("multipart upload assembled", { videoId: row.id, parts: partCount });
}
