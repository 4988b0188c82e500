/** `POST /v1/videos`: create a video record and get its upload instructions (presigned PUT or multipart). */
import { createRoute } from "@hono/zod-openapi";
import { CreateVideoRequest, CreateVideoResponse } from "../../../../schema/api.ts";
import { createVideo } from "../../services/videos/create-video.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const createVideoRoute = createRoute({
  method: "post",
  path: "/v1/videos",
  operationId: "createVideo",
  tags: ["videos"],
  summary: "Create a video and get its upload URL",
  description:
    "Declares a file (name, MIME type, exact size). Answers the video (VIDEO_UPLOAD_PENDING) and how to upload it: `upload.method = \"PUT\"`, a presigned PUT bound to that type and size (upload the file with exactly the given headers), or above MULTIPART_THRESHOLD_BYTES `\"MULTIPART\"`, an S3 multipart upload (part URLs from `POST /v1/videos/{id}/upload-parts`). Then call `/complete`.",
  security: BEARER,
  request: { body: { required: true, content: { "application/json": { schema: CreateVideoRequest } } } },
  responses: {
    201: { description: "Created.", content: { "application/json": { schema: CreateVideoResponse } } },
    ...problems(400, 401, 403, 413, 415, 429),
  },
});

export function registerCreateVideo(app: App) {
  app.openapi(createVideoRoute, async (c) => {
    const result = await createVideo(c.var.deps, c.var.user.id, c.req.valid("json"));
    return c.json(result, 201);
  });
}
