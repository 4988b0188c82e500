/** `GET /v1/videos/{id}/events`: a video's timeline, newest first, with cursor pagination. */
import { createRoute } from "@hono/zod-openapi";
import { ListVideoEventsQuery, VideoEventList, VideoIdParams } from "../../../../schema/api.ts";
import { listVideoEvents } from "../../services/videos/list-video-events.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listVideoEventsRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}/events",
  operationId: "listVideoEvents",
  tags: ["videos"],
  summary: "List a video's timeline",
  description:
    "Every status change of the video and of its jobs (extraction, transcodes), with its attempt, source and message; newest first. Progress is not listed. Pass `nextCursor` as `cursor` for the next page.",
  security: BEARER,
  request: { params: VideoIdParams, query: ListVideoEventsQuery },
  responses: {
    200: { description: "A page of the video's timeline.", content: { "application/json": { schema: VideoEventList } } },
    ...problems(400, 401, 404),
  },
});

export function registerListVideoEvents(app: App) {
  app.openapi(listVideoEventsRoute, async (c) => {
    return c.json(await listVideoEvents(c.var.deps, c.var.user.id, c.req.valid("param").id, c.req.valid("query")), 200);
  });
}
