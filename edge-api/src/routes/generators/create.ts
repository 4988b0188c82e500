/** `POST /v1/generators`: register an external generator; its signing secret is answered once. */
import { createRoute } from "@hono/zod-openapi";
import { CreateGeneratorRequest, GeneratorWithSecret } from "../../../../schema/api.ts";
import { createGenerator } from "../../services/generators/create-generator.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const createGeneratorRoute = createRoute({
  method: "post",
  path: "/v1/generators",
  operationId: "createGenerator",
  tags: ["generators"],
  summary: "Register a generator",
  description:
    "An external service (an n8n workflow, a script) that makes videos: `POST /v1/generations` sends it a signed request and it calls back with the finished video's URL (docs/generators.md). The `secret` signs the requests as webhooks are signed and is shown only in this answer. At most 10 generators per user (409 beyond); creations are rate-limited per user (429 beyond: 10 a minute in production).",
  security: BEARER,
  request: { body: { required: true, content: { "application/json": { schema: CreateGeneratorRequest } } } },
  responses: {
    201: { description: "Registered; keep `secret`.", content: { "application/json": { schema: GeneratorWithSecret } } },
    ...problems(400, 401, 403, 429),
    409: { ...problems(409)[409], description: "The user already has 10 generators (`conflict`)." },
  },
});

export function registerCreateGenerator(app: App) {
  app.openapi(createGeneratorRoute, async (c) => {
    return c.json(await createGenerator(c.var.deps, c.var.user.id, c.req.valid("json")), 201);
  });
}
