/** `POST /v1/videos/{id}/retry`: queue a new extraction attempt of a failed video. */
import { createRoute } from "@hono/zod-openapi";
import { VideoEnvelope, VideoIdParams } from "../../../../schema/api.ts";
import { retryVideo } from "../../services/videos/retry-video.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const retryVideoRoute = createRoute({
  method: "post",
  path: "/v1/videos/{id}/retry",
  operationId: "retryVideo",
  tags: ["videos"],
  summary: "Retry a failed extraction or import",
  description:
    "Only from VIDEO_IMAGE_EXTRACTION_ERROR: queues attempt + 1 (409 `conflict` otherwise). The uploaded object is checked again " +
    "as at `complete` (409 `upload-incomplete` / `upload-size-mismatch`) and its current ETag recorded, so corrected bytes " +
    "uploaded through the same URL are what the new attempt reads. From VIDEO_IMPORT_ERROR: the import is queued again " +
    "(VIDEO_IMPORT_QUEUED, attempt + 1), downloading the same URL.",
  security: BEARER,
  request: { params: VideoIdParams },
  responses: {
    202: { description: "Queued with the next attempt.", content: { "application/json": { schema: VideoEnvelope } } },
    ...problems(401, 403, 404, 409, 502, 503),
  },
});

export function registerRetryVideo(app: App) {
  app.openapi(retryVideoRoute, async (c) => {
    const video = await retryVideo(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.json({ video }, 202);
  });
}
