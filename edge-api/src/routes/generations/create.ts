/** `POST /v1/generations`: ask a generator for a video. */
import { createRoute } from "@hono/zod-openapi";
import { CreateGenerationRequest, CreateGenerationResponse } from "../../../../schema/api.ts";
import { createGeneration } from "../../services/generations/create-generation.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const createGenerationRoute = createRoute({
  method: "post",
  path: "/v1/generations",
  operationId: "createGeneration",
  tags: ["generations"],
  summary: "Ask a generator for a video",
  description:
    "Creates a video in VIDEO_GENERATION_PENDING with `estimatedCompletionAt` and sends your generator a signed request `{generationId, input, callback: {url, token}}` (retried 5 times over about 7.5 min; then the video fails VIDEO_GENERATION_ERROR). The generator calls back `POST /v1/generations/{id}/callback`; `ready` imports its URL, then extracts images (and transcodes when asked). Without a callback by `estimatedCompletionAt` + GENERATION_TIMEOUT_SECONDS the video fails. Counted with video creations in the per-user rate limit. See docs/generators.md.",
  security: BEARER,
  request: { body: { required: true, content: { "application/json": { schema: CreateGenerationRequest } } } },
  responses: {
    202: { description: "Accepted: the request to the generator is queued.", content: { "application/json": { schema: CreateGenerationResponse } } },
    ...problems(400, 401, 403),
    404: { ...problems(404)[404], description: "No such generator for this user (`not-found`)." },
    ...problems(429, 503),
  },
});

export function registerCreateGeneration(app: App) {
  app.openapi(createGenerationRoute, async (c) => {
    return c.json(await createGeneration(c.var.deps, c.var.user.id, c.req.valid("json")), 202);
  });
}
