/** `GET /v1/generators`: the user's generators (never their secrets). */
import { createRoute } from "@hono/zod-openapi";
import { GeneratorList } from "../../../../schema/api.ts";
import { listGenerators } from "../../services/generators/list-generators.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const listGeneratorsRoute = createRoute({
  method: "get",
  path: "/v1/generators",
  operationId: "listGenerators",
  tags: ["generators"],
  summary: "List generators",
  description: "Every generator of the user (at most 10), newest first.",
  security: BEARER,
  responses: {
    200: { description: "The generators.", content: { "application/json": { schema: GeneratorList } } },
    ...problems(401),
  },
});

export function registerListGenerators(app: App) {
  app.openapi(listGeneratorsRoute, async (c) => c.json(await listGenerators(c.var.deps, c.var.user.id), 200));
}
