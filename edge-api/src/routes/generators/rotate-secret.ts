/** `POST /v1/generators/{id}/rotate-secret`: replace the signing secret; the new one is answered once. */
import { createRoute } from "@hono/zod-openapi";
import { GeneratorIdParams, GeneratorWithSecret } from "../../../../schema/api.ts";
import { rotateGeneratorSecret } from "../../services/generators/rotate-generator-secret.ts";
import { GENERATOR_NOT_FOUND } from "./get.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const rotateGeneratorSecretRoute = createRoute({
  method: "post",
  path: "/v1/generators/{id}/rotate-secret",
  operationId: "rotateGeneratorSecret",
  tags: ["generators"],
  summary: "Rotate a generator's signing secret",
  description: "Every try from now on is signed with the new secret; the old one stops at once. Rotations are rate-limited per user (429 beyond: 10 a minute in production).",
  security: BEARER,
  request: { params: GeneratorIdParams },
  responses: {
    200: { description: "The new secret; keep it.", content: { "application/json": { schema: GeneratorWithSecret } } },
    ...problems(401, 403),
    404: GENERATOR_NOT_FOUND,
    ...problems(429),
  },
});

export function registerRotateGeneratorSecret(app: App) {
  app.openapi(rotateGeneratorSecretRoute, async (c) => {
    return c.json(await rotateGeneratorSecret(c.var.deps, c.var.user.id, c.req.valid("param").id), 200);
  });
}
