/** `GET /v1/videos/{id}/images`: the extracted images and a presigned ZIP download. */
import { createRoute } from "@hono/zod-openapi";
import { ImageList, VideoIdParams } from "../../../../schema/api.ts";
import { listImages } from "../../services/videos/list-images.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listImagesRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}/images",
  operationId: "listVideoImages",
  tags: ["images"],
  summary: "List the extracted images",
  description: "From the archive's manifest. 409 `not-ready` until the video is VIDEO_IMAGE_EXTRACTION_SUCCESS.",
  security: BEARER,
  request: { params: VideoIdParams },
  responses: {
    200: { description: "Images and ZIP link.", content: { "application/json": { schema: ImageList } } },
    ...problems(401, 404, 409, 502),
  },
});

export function registerListImages(app: App) {
  app.openapi(listImagesRoute, async (c) => {
    c.header("cache-control", "private, no-store");
    return c.json(await listImages(c.var.deps, c.var.user.id, c.req.valid("param").id), 200);
  });
}
