/** `GET /v1/videos/{id}/upload-parts`: the parts already stored for a multipart upload (to resume). */
import { createRoute } from "@hono/zod-openapi";
import { StoredParts, VideoIdParams } from "../../../../schema/api.ts";
import { listUploadParts } from "../../services/videos/list-upload-parts.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listUploadPartsRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}/upload-parts",
  operationId: "listUploadParts",
  tags: ["videos"],
  summary: "List the uploaded parts of a multipart upload",
  description:
    "For a video created with `upload.method = \"MULTIPART\"`, still VIDEO_UPLOAD_PENDING: the part size and count, and the parts the storage already holds with their ETags (S3 ListParts). A client resuming an interrupted upload sends only the other parts, then completes with all. 409 for a single-PUT video or one past the upload.",
  security: BEARER,
  request: { params: VideoIdParams },
  responses: {
    200: { description: "Stored parts, by part number.", content: { "application/json": { schema: StoredParts } } },
    ...problems(401, 404, 409, 502),
  },
});

export function registerListUploadParts(app: App) {
  app.openapi(listUploadPartsRoute, async (c) => {
    return c.json(await listUploadParts(c.var.deps, c.var.user.id, c.req.valid("param").id), 200);
  });
}
