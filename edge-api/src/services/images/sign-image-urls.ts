/**
 * `POST /v1/videos/{id}/image-urls`: signed URLs of a video's images for `<img src>` and players (no
 * bearer token in any URL). Each URL carries a token over (video, file, normalized parameters, expiry):
 * ./image-token.ts. The video must be the caller's (404 otherwise); its upload need not be complete yet
 * (the image route answers 409 until it is).
 */
import { DEFAULT_IMAGE_URLS, parseImageQuery, type ImageFile, type ImageUrls, type ImageUrlsRequest } from "../../../../schema/image-options.ts";
import type { Deps } from "../../context.ts";
import { fieldIssues, ProblemError } from "../../errors.ts";
import { getVideoRow } from "../videos/get-video.ts";
import { imageUrl, signImageToken } from "./image-token.ts";

/**
 * @param now epoch ms
 * @returns the URLs in the order asked, and their common expiry
 * @throws ProblemError `not-found` (404), `validation` (400, `images.{i}.query.{param}`)
 */
export async function signImageUrls(deps: Deps, userId: string, videoId: string, body: ImageUrlsRequest, now = Date.now()): Promise<ImageUrls> {
  const row = await getVideoRow(deps, userId, videoId);
  const expiresAt = Math.floor(now / 1000) + (body.expiresInSeconds ?? deps.config.downloadUrlTtlSeconds);
  const urls: ImageUrls["urls"] = [];
  const images: { file: ImageFile; query?: Record<string, string | number> | undefined }[] = body.images ?? [...DEFAULT_IMAGE_URLS];
  for (const [i, image] of images.entries()) {
    const query = image.query ?? {};
    const parsed = parseImageQuery(image.file, query);
    if ("issues" in parsed) {
      throw new ProblemError("validation", "The request body is invalid.", {
        errors: fieldIssues(parsed.issues.map((issue) => ({ ...issue, path: ["images", i, "query", ...issue.path] }))),
      });
    }
    const token = await signImageToken(deps, row.id, image.file, parsed.spec, expiresAt);
    urls.push({ file: image.file, url: imageUrl(deps.config.publicBaseUrl, row.id, image.file, query, token) });
  }
  return { expiresAt: new Date(expiresAt * 1000).toISOString(), urls };
}
