/** `GET /v1/generators/{id}`: one generator (never its secret). */
import { createRoute } from "@hono/zod-openapi";
import { GeneratorEnvelope, GeneratorIdParams } from "../../../../schema/api.ts";
import { getGeneratorRow } from "../../services/generators/get-generator.ts";
import { toGenerator } from "../../services/generators/serialize.ts";
import { BEARER, problems, type App } from "../shared.ts";

/** 404 of the generator routes: another user's generator answers the same. */
export const GENERATOR_NOT_FOUND = { ...problems(404)[404], description: "No such generator for this user (`not-found`)." };

export const getGeneratorRoute = createRoute({
  method: "get",
  path: "/v1/generators/{id}",
  operationId: "getGenerator",
  tags: ["generators"],
  summary: "Get a generator",
  security: BEARER,
  request: { params: GeneratorIdParams },
  responses: {
    200: { description: "The generator.", content: { "application/json": { schema: GeneratorEnvelope } } },
    ...problems(401),
    404: GENERATOR_NOT_FOUND,
  },
});

export function registerGetGenerator(app: App) {
  app.openapi(getGeneratorRoute, async (c) => {
    const row = await getGeneratorRow(c.var.deps, c.var.user.id, c.req.valid("param").id);
    return c.json({ generator: toGenerator(row) }, 200);
  });
}
