/** `GET /v1/videos/{id}/thumbnail.{jpg,png,webp}`: the exact frame at (or after) `time`, sized and rotated. */
import { createRoute } from "@hono/zod-openapi";
import { VideoIdParams } from "../../../../schema/api.ts";
import { THUMBNAIL_FORMATS, ThumbnailQuery, thumbnailSpec, type ThumbnailFormat } from "../../../../schema/image-options.ts";
import { imageVideo, renderedImage } from "../../services/images/serve-image.ts";
import type { App } from "../shared.ts";
import { BEARER_OR_TOKEN, imageResponse, imageResponses, waitUntilOf } from "./shared.ts";

/** The route of one thumbnail format. */
export function thumbnailRoute(format: ThumbnailFormat) {
  return createRoute({
    method: "get",
    path: `/v1/videos/{id}/thumbnail.${format}`,
    operationId: `getThumbnail${format[0]!.toUpperCase()}${format.slice(1)}`,
    tags: ["images"],
    summary: `Thumbnail (${format.toUpperCase()})`,
    description:
      "The exact frame at or after `time` (default: the middle), or with `accuracy=keyframe` the keyframe before it. A `time` after the last frame's start but before the duration gives the last frame (on screen until the end). Rendered once per distinct normalized request and cached (ETag, If-None-Match → 304). Authenticated by a bearer token, an API key, the session cookie, or a signed `token` from `POST /v1/videos/{id}/image-urls` (for `<img src>`).",
    security: BEARER_OR_TOKEN,
    request: { params: VideoIdParams, query: ThumbnailQuery },
    responses: imageResponses(THUMBNAIL_FORMATS[format], "The thumbnail."),
  });
}

export function registerThumbnail(app: App) {
  for (const format of Object.keys(THUMBNAIL_FORMATS) as ThumbnailFormat[]) {
    app.openapi(thumbnailRoute(format), async (c) => {
      const { id } = c.req.valid("param");
      const query = c.req.valid("query");
      const spec = thumbnailSpec(format, query);
      const { row } = await imageVideo(c.var.deps, { videoId: id, file: `thumbnail.${format}`, spec, token: query.token, userId: c.var.user?.id });
      const image = await renderedImage(c.var.deps, row, spec, { waitUntil: waitUntilOf(c), requestId: c.var.requestId });
      return imageResponse(c, image);
    });
  }
}
