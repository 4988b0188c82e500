/**
 * Presigned download of a finished video's ZIP archive, with
 * `Content-Disposition: attachment; filename="<name without extension>-images.zip"`.
 */
import { archiveObjectKey } from "../../../../schema/object-keys.ts";
import type { ZipDownload } from "../../../../schema/api.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { zipContentDisposition } from "../../storage/s3.ts";
import { getVideoRow } from "./get-video.ts";
import type { VideoRow } from "./serialize.ts";
import { SUCCESS } from "../../lifecycle/statuses.ts";

/**
 * Signs a GET of the archive of `row` (which must be SUCCESS).
 * @param ttlSeconds lifetime of the URL, 1..604800 s
 */
export async function presignArchive(deps: Deps, row: VideoRow, ttlSeconds: number): Promise<ZipDownload> {
  const key = row.archiveKey ?? archiveObjectKey(row.userId, row.id, row.attempt);
  const signed = await deps.storage.presignGet({
    bucket: deps.config.imagesBucket,
    key,
    ttlSeconds,
    contentDisposition: zipContentDisposition(row.filename),
  });
  return { ...signed, sizeBytes: row.zipSizeBytes };
}

/** @throws ProblemError `not-ready` (409) unless the video's extraction succeeded */
export function assertReady(row: VideoRow): void {
  if (row.status !== SUCCESS) {
    throw new ProblemError("not-ready", `The images are not ready: the video is ${row.status}.`);
  }
}

/**
 * @returns a presigned GET of the ZIP valid DOWNLOAD_URL_TTL_SECONDS
 * @throws ProblemError `not-found` (404), `not-ready` (409)
 */
export async function getArchiveUrl(deps: Deps, userId: string, videoId: string): Promise<ZipDownload> {
  const row = await getVideoRow(deps, userId, videoId);
  assertReady(row);
  return presignArchive(deps, row, deps.config.downloadUrlTtlSeconds);
}
