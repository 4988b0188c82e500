/** `DELETE /v1/videos/{id}`: delete a video, its uploaded file and every archive. */
import { createRoute } from "@hono/zod-openapi";
import { VideoIdParams } from "../../../../schema/api.ts";
import { deleteVideo } from "../../lifecycle/delete-video.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const deleteVideoRoute = createRoute({
  method: "delete",
  path: "/v1/videos/{id}",
  operationId: "deleteVideo",
  tags: ["videos"],
  summary: "Delete a video",
  description:
    "Removes the record, the uploaded file and the archive and manifest of every attempt. Allowed in any status: an extraction still running is discarded when it ends. Deleting again answers 404.",
  security: BEARER,
  request: { params: VideoIdParams },
  responses: {
    204: { description: "Deleted." },
    ...problems(401, 403, 404),
  },
});

export function registerDeleteVideo(app: App) {
  app.openapi(deleteVideoRoute, async (c) => {
    await deleteVideo(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
