/** `POST /v1/videos/{id}/upload-parts`: presigned PUT URLs for parts of a multipart upload. */
import { createRoute } from "@hono/zod-openapi";
import { UploadPartUrls, UploadPartsRequest, VideoIdParams } from "../../../../schema/api.ts";
import { presignUploadParts } from "../../services/videos/presign-upload-parts.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const presignUploadPartsRoute = createRoute({
  method: "post",
  path: "/v1/videos/{id}/upload-parts",
  operationId: "createUploadParts",
  tags: ["videos"],
  summary: "Get presigned URLs for upload parts",
  description:
    "For a video created with `upload.method = \"MULTIPART\"`, still VIDEO_UPLOAD_PENDING: one presigned PUT per part number (1..partCount, at most 100 per call), bound to the part's exact size (`headers`) and valid UPLOAD_URL_TTL_SECONDS. Keep the `ETag` header of each PUT's answer for `/complete`. Ask again after an expiry or a dropped connection. 409 for a single-PUT video or one past the upload.",
  security: BEARER,
  request: {
    params: VideoIdParams,
    body: { required: true, content: { "application/json": { schema: UploadPartsRequest } } },
  },
  responses: {
    200: { description: "Presigned part URLs, by part number.", content: { "application/json": { schema: UploadPartUrls } } },
    ...problems(400, 401, 403, 404, 409),
  },
});

export function registerPresignUploadParts(app: App) {
  app.openapi(presignUploadPartsRoute, async (c) => {
    const parts = await presignUploadParts(c.var.deps, c.var.user.id, c.req.valid("param").id, c.req.valid("json").partNumbers);
    return c.json({ parts }, 200);
  });
}
