/**
 * Lists the images of a finished video from its stand-alone manifest.json in the images bucket
 * (schema/manifest.ts), plus a presigned download of the ZIP.
 */
import type { ImageList } from "../../../../schema/api.ts";
import { Manifest } from "../../../../schema/manifest.ts";
import { manifestObjectKey } from "../../../../schema/object-keys.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { assertReady, presignArchive } from "./get-archive-url.ts";
import { getVideoRow } from "./get-video.ts";
import { withStorage } from "./storage-problem.ts";

/**
 * @returns the manifest's images (order of the archive) and the ZIP link (DOWNLOAD_URL_TTL_SECONDS)
 * @throws ProblemError `not-found` (404), `not-ready` (409), `bad-gateway` (502, storage),
 *   `internal` (500, the manifest is missing or invalid although the video succeeded)
 */
export async function listImages(deps: Deps, userId: string, videoId: string): Promise<ImageList> {
  const row = await getVideoRow(deps, userId, videoId);
  assertReady(row);
  const key = row.manifestKey ?? manifestObjectKey(row.userId, row.id, row.attempt);
  const raw = await withStorage("reading the manifest", () => deps.storage.getObjectJson(deps.config.imagesBucket, key));
  if (raw === null) {
    throw new ProblemError("internal", "The image manifest of this video is missing.", {
      cause: new Error(`manifest object not found: ${key}`),
    });
  }
  const manifest = Manifest.safeParse(raw);
  if (!manifest.success) {
    throw new ProblemError("internal", "The image manifest of this video is invalid.", { cause: manifest.error });
  }
  return {
    videoId: row.id,
    attempt: row.attempt,
    imageCount: manifest.data.images.length,
    images: manifest.data.images,
    zip: await presignArchive(deps, row, deps.config.downloadUrlTtlSeconds),
  };
}
