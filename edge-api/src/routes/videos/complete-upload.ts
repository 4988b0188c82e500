/** `POST /v1/videos/{id}/complete`: confirm the upload and queue the extraction. */
import { createRoute } from "@hono/zod-openapi";
import { CompleteUploadRequest, VideoEnvelope, VideoIdParams } from "../../../../schema/api.ts";
import { completeUpload } from "../../services/videos/complete-upload.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const completeUploadRoute = createRoute({
  method: "post",
  path: "/v1/videos/{id}/complete",
  operationId: "completeVideoUpload",
  tags: ["videos"],
  summary: "Complete the upload and queue the extraction",
  description:
    "For a multipart upload, first assembles the object from `parts` (every part 1..partCount with the ETag its PUT answered; 400 when parts are missing, 409 `upload-parts-invalid` when the storage refuses them; the upload stays open for a retry). Checks the uploaded object (exists, declared size) and queues attempt 1. Idempotent: on a video already queued, processing or done it answers the current state and queues nothing. Every call also queues the video's transcodes still TRANSCODE_PENDING (asked before completion); 503 when the queue refused one (call again).",
  security: BEARER,
  request: {
    params: VideoIdParams,
    body: { required: false, content: { "application/json": { schema: CompleteUploadRequest } } },
  },
  responses: {
    202: { description: "Queued (or already past the upload).", content: { "application/json": { schema: VideoEnvelope } } },
    ...problems(400, 401, 403, 404, 409, 502, 503),
  },
});

export function registerCompleteUpload(app: App) {
  app.openapi(completeUploadRoute, async (c) => {
    const body = c.req.valid("json") as CompleteUploadRequest | undefined;
    const video = await completeUpload(c.var.deps, c.var.user.id, c.req.valid("param").id, body?.parts);
    return c.json({ video }, 202);
  });
}
