/** `GET /v1/stats`: the calling user's video statistics. */
import { createRoute } from "@hono/zod-openapi";
import { Stats } from "../../../../schema/api.ts";
import { getStats } from "../../services/stats/get-stats.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const getStatsRoute = createRoute({
  method: "get",
  path: "/v1/stats",
  operationId: "getStats",
  tags: ["stats"],
  summary: "Statistics of your videos",
  description:
    "Videos by status, success rate, median and p95 processing time (processor start to completion of succeeded videos, latest 10,000), images produced and bytes stored. Deleted videos are not counted.",
  security: BEARER,
  responses: {
    200: { description: "The statistics.", content: { "application/json": { schema: Stats } } },
    ...problems(401),
  },
});

export function registerGetStats(app: App) {
  app.openapi(getStatsRoute, async (c) => c.json(await getStats(c.var.deps, c.var.user.id), 200));
}
