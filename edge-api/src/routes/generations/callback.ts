/**
 * `POST /v1/generations/{id}/callback`: the generator reports its result. Authenticated by the generation's
 * callback token in the `vidsnap-callback-token` header, not by a bearer token: the app exempts this path from
 * `requireUser` ({@link isGenerationCallbackPath}).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { GenerationCallbackRequest, GeneratorIdParams, VideoEnvelope } from "../../../../schema/api.ts";
import { CALLBACK_TOKEN_HEADER } from "../../services/generations/callback-token.ts";
import { receiveGenerationCallback } from "../../services/generations/receive-callback.ts";
import { problems, type App } from "../shared.ts";

const CALLBACK_PATH = /^\/v1\/generations\/[^/]+\/callback$/;

/** True for a request path answered by the callback route (no bearer token). */
export function isGenerationCallbackPath(path: string): boolean {
  return CALLBACK_PATH.test(path);
}

export const generationCallbackRoute = createRoute({
  method: "post",
  path: "/v1/generations/{id}/callback",
  operationId: "generationCallback",
  tags: ["generations"],
  summary: "Report a generation's result (called by the generator)",
  description:
    "`ready` with `url`: vidsnap imports the video from it (same URL rules as an import), then extracts images. `failed` with `error`: the video ends VIDEO_GENERATION_ERROR and its owner gets an email. Idempotent: a repeated callback changes nothing and answers 200. After the generation ended without a callback (timed out, request failed): 409.",
  security: [],
  request: {
    params: GeneratorIdParams,
    headers: z.object({
      [CALLBACK_TOKEN_HEADER]: z.string().max(200).optional().describe("The `callback.token` of the generation's request."),
    }),
    body: { required: true, content: { "application/json": { schema: GenerationCallbackRequest } } },
  },
  responses: {
    200: { description: "A repeated callback: nothing changed; the current video.", content: { "application/json": { schema: VideoEnvelope } } },
    202: { description: "Accepted: the video is being imported (`ready`) or has failed (`failed`).", content: { "application/json": { schema: VideoEnvelope } } },
    ...problems(400),
    401: { ...problems(401)[401], description: "The token is missing, forged or another generation's (`unauthorized`)." },
    404: { ...problems(404)[404], description: "No such generation (`not-found`)." },
    409: { ...problems(409)[409], description: "The generation already ended without a callback: timed out or its request failed (`conflict`)." },
    ...problems(503),
  },
});

export function registerGenerationCallback(app: App) {
  app.openapi(generationCallbackRoute, async (c) => {
    const answer = await receiveGenerationCallback(c.var.deps, c.req.valid("param").id, c.req.valid("header")[CALLBACK_TOKEN_HEADER], c.req.valid("json"));
    return answer.status === 202 ? c.json({ video: answer.video }, 202) : c.json({ video: answer.video }, 200);
  });
}
