/**
 * Object keys in the two buckets. Each key depends only on user, video and attempt, so a repeated
 * job writes the same objects (idempotent) and deleting a video knows every key it owns.
 *
 * - videos bucket: `users/{userId}/videos/{videoId}/source`
 * - images bucket: `users/{userId}/videos/{videoId}/attempts/{attempt}/images.zip` and `.../manifest.json`;
 *   images on demand under `users/{userId}/videos/{videoId}/images/` ({@link renderedImageKey})
 */
export function sourceObjectKey(userId: string, videoId: string): string {
  return `users/${userId}/videos/${videoId}/source`;
}

/** Key of the ZIP archive of one extraction attempt (attempt ≥ 1). */
export function archiveObjectKey(userId: string, videoId: string, attempt: number): string {
  return `users/${userId}/videos/${videoId}/attempts/${attempt}/images.zip`;
}

/** Key of the stand-alone copy of the archive's manifest.json, read by the API to list images. */
export function manifestObjectKey(userId: string, videoId: string, attempt: number): string {
  return `users/${userId}/videos/${videoId}/attempts/${attempt}/manifest.json`;
}

/** `s3://bucket/key` object URI used in messages (`archiveUri`, `manifestUri`); never a fetchable URL. */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Inverse of {@link s3Uri}. @throws Error when the reference is not `s3://bucket/key`. */
export function parseS3Uri(ref: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
  if (!m) throw new Error(`not an s3:// reference: ${ref}`);
  return { bucket: m[1]!, key: m[2]! };
}

/**
 * Folder of one transcode attempt's outputs in the videos bucket (attempt ≥ 1):
 * `users/{userId}/videos/{videoId}/transcodes/{transcodeId}/attempts/{attempt}/`. Files inside:
 * `{rendition}.mp4`, `{rendition}.webm`, and for HLS `hls/master.m3u8` with `hls/{height}/index.m3u8`,
 * `hls/{height}/init.mp4` and `hls/{height}/seg-00001.m4s` (`.ts` for MPEG-TS segments).
 */
export function transcodeAttemptPrefix(userId: string, videoId: string, transcodeId: string, attempt: number): string {
  return `${transcodePrefix(userId, videoId, transcodeId)}attempts/${attempt}/`;
}

/** Prefix of every object of one transcode, all attempts (deleting the transcode deletes under it). */
export function transcodePrefix(userId: string, videoId: string, transcodeId: string): string {
  return `${videoTranscodesPrefix(userId, videoId)}${transcodeId}/`;
}

/** Prefix of the objects of every transcode of one video (deleting the video deletes under it). */
export function videoTranscodesPrefix(userId: string, videoId: string): string {
  return `users/${userId}/videos/${videoId}/transcodes/`;
}

/** Prefix of every image on demand of one video in the images bucket (deleting the video deletes under it). */
export function videoImagesPrefix(userId: string, videoId: string): string {
  return `users/${userId}/videos/${videoId}/images/`;
}

/**
 * Key of one rendered image on demand (images bucket):
 * `users/{userId}/videos/{videoId}/images/{sourceTag}/{specDigest}.{extension}`.
 * @param sourceTag names the source's bytes (a digest of its ETag, or `attempt-{n}` without one): a replaced
 *   source never serves images of the old one
 * @param specDigest hex digest of the normalized render parameters (`canonicalSpec`, schema/image-options.ts)
 * @param extension `jpg`, `png`, `webp`, `gif` or `json`
 */
export function renderedImageKey(userId: string, videoId: string, sourceTag: string, specDigest: string, extension: string): string {
  return `${videoImagesPrefix(userId, videoId)}${sourceTag}/${specDigest}.${extension}`;
}
