/** `GET /v1/videos/{id}/transcodes`: a video's transcodes, newest first, with cursor pagination. */
import { createRoute } from "@hono/zod-openapi";
import { ListTranscodesQuery, TranscodeList, VideoIdParams } from "../../../../schema/api.ts";
import { listTranscodes } from "../../services/transcodes/list-transcodes.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listTranscodesRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}/transcodes",
  operationId: "listTranscodes",
  tags: ["transcodes"],
  summary: "List a video's transcodes",
  description: "Newest first. Pass `nextCursor` as `cursor` for the next page; filter with `status`. Output links expire after DOWNLOAD_URL_TTL_SECONDS.",
  security: BEARER,
  request: { params: VideoIdParams, query: ListTranscodesQuery },
  responses: {
    200: { description: "A page of transcodes.", content: { "application/json": { schema: TranscodeList } } },
    ...problems(400, 401, 404),
  },
});

export function registerListTranscodes(app: App) {
  app.openapi(listTranscodesRoute, async (c) => {
    return c.json(await listTranscodes(c.var.deps, c.var.user.id, c.req.valid("param").id, c.req.valid("query")), 200);
  });
}
