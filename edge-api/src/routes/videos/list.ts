/** `GET /v1/videos`: the user's videos, newest first, with cursor pagination. */
import { createRoute } from "@hono/zod-openapi";
import { ListVideosQuery, VideoList } from "../../../../schema/api.ts";
import { listVideos } from "../../services/videos/list-videos.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listVideosRoute = createRoute({
  method: "get",
  path: "/v1/videos",
  operationId: "listVideos",
  tags: ["videos"],
  summary: "List videos",
  description: "Newest first. Pass `nextCursor` as `cursor` for the next page; filter with `status`.",
  security: BEARER,
  request: { query: ListVideosQuery },
  responses: {
    200: { description: "A page of videos.", content: { "application/json": { schema: VideoList } } },
    ...problems(400, 401),
  },
});

export function registerListVideos(app: App) {
  app.openapi(listVideosRoute, async (c) => {
    return c.json(await listVideos(c.var.deps, c.var.user.id, c.req.valid("query")), 200);
  });
}
