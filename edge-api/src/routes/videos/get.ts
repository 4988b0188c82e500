/** `GET /v1/videos/{id}`: one video and the state of its extraction. */
import { createRoute } from "@hono/zod-openapi";
import { VideoEnvelope, VideoIdParams } from "../../../../schema/api.ts";
import { getVideoRow } from "../../services/videos/get-video.ts";
import { toVideo } from "../../services/videos/serialize.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const getVideoRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}",
  operationId: "getVideo",
  tags: ["videos"],
  summary: "Get a video",
  security: BEARER,
  request: { params: VideoIdParams },
  responses: {
    200: { description: "The video.", content: { "application/json": { schema: VideoEnvelope } } },
    ...problems(401, 404),
  },
});

export function registerGetVideo(app: App) {
  app.openapi(getVideoRoute, async (c) => {
    const row = await getVideoRow(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.json({ video: toVideo(row) }, 200);
  });
}
