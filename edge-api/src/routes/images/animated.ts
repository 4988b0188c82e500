/** `GET /v1/videos/{id}/animated.{gif,webp}`: an animated preview of up to 10 s. */
import { createRoute } from "@hono/zod-openapi";
import { VideoIdParams } from "../../../../schema/api.ts";
import { ANIMATED_FORMATS, AnimatedQuery, animatedSpec, type AnimatedFormat } from "../../../../schema/image-options.ts";
import { imageVideo, renderedImage } from "../../services/images/serve-image.ts";
import type { App } from "../shared.ts";
import { BEARER_OR_TOKEN, imageResponse, imageResponses, waitUntilOf } from "./shared.ts";

/** The route of one animated format. */
export function animatedRoute(format: AnimatedFormat) {
  return createRoute({
    method: "get",
    path: `/v1/videos/{id}/animated.${format}`,
    operationId: `getAnimated${format[0]!.toUpperCase()}${format.slice(1)}`,
    tags: ["images"],
    summary: `Animated preview (${format.toUpperCase()})`,
    description:
      "From `start` (default 0) to `end` (default start + 5 s, at most 10 s after it) at `fps` (default 10, at most 30), 480 px wide unless `width`/`height` say otherwise. GIFs use a palette generated for their frames. Cached and authenticated like the thumbnail.",
    security: BEARER_OR_TOKEN,
    request: { params: VideoIdParams, query: AnimatedQuery },
    responses: imageResponses(ANIMATED_FORMATS[format], "The animated preview."),
  });
}

export function registerAnimated(app: App) {
  for (const format of Object.keys(ANIMATED_FORMATS) as AnimatedFormat[]) {
    app.openapi(animatedRoute(format), async (c) => {
      const { id } = c.req.valid("param");
      const query = c.req.valid("query");
      const spec = animatedSpec(format, query);
      const { row } = await imageVideo(c.var.deps, { videoId: id, file: `animated.${format}`, spec, token: query.token, userId: c.var.user?.id });
      const image = await renderedImage(c.var.deps, row, spec, { waitUntil: waitUntilOf(c), requestId: c.var.requestId });
      return imageResponse(c, image);
    });
  }
}
