/** `POST /v1/videos/{id}/complete`: confirm the upload and queue the extraction. */
import { createRoute } from "@hono/zod-openapi";
import { VideoEnvelope, VideoIdParams } from "../../../schema/api.ts";
import { completeUpload } from "../services/videos/complete-upload.ts";
import { BEARER, problems, type App } from "./shared.ts";

export const completeUploadRoute = createRoute({
  method: "post",
  path: "/v1/videos/{id}/complete",
  tags: ["videos"],
  summary: "Complete the upload and queue the extraction",
  description:
    "Checks the uploaded object (exists, declared size) and queues attempt 1. Idempotent: on a video already queued, processing or done it answers the current state and queues nothing.",
  security: BEARER,
  request: { params: VideoIdParams },
  responses: {
    202: { description: "Queued (or already past the upload).", content: { "application/json": { schema: VideoEnvelope } } },
    ...problems(401, 404, 409, 502, 503),
  },
});

export function registerCompleteUpload(app: App) {
  app.openapi(completeUploadRoute, async (c) => {
    const video = await completeUpload(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.json({ video }, 202);
  });
}
