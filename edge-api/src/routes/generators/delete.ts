/** `DELETE /v1/generators/{id}`: remove a generator. */
import { createRoute } from "@hono/zod-openapi";
import { GeneratorIdParams } from "../../../../schema/api.ts";
import { deleteGenerator } from "../../services/generators/delete-generator.ts";
import { GENERATOR_NOT_FOUND } from "./get.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const deleteGeneratorRoute = createRoute({
  method: "delete",
  path: "/v1/generators/{id}",
  operationId: "deleteGenerator",
  tags: ["generators"],
  summary: "Delete a generator",
  description: "Its generations keep their videos; a request not yet sent fails its generation, one already sent still accepts its callback.",
  security: BEARER,
  request: { params: GeneratorIdParams },
  responses: {
    204: { description: "Deleted." },
    ...problems(401, 403),
    404: GENERATOR_NOT_FOUND,
  },
});

export function registerDeleteGenerator(app: App) {
  app.openapi(deleteGeneratorRoute, async (c) => {
    await deleteGenerator(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
