/** `POST /v1/videos/{id}/transcodes/{tid}/retry`: queue a new attempt of a failed transcode. */
import { createRoute } from "@hono/zod-openapi";
import { TranscodeEnvelope, TranscodeIdParams } from "../../../../schema/api.ts";
import { retryTranscode } from "../../services/transcodes/retry-transcode.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const retryTranscodeRoute = createRoute({
  method: "post",
  path: "/v1/videos/{id}/transcodes/{tid}/retry",
  operationId: "retryTranscode",
  tags: ["transcodes"],
  summary: "Retry a failed transcode",
  description: "Only from TRANSCODE_ERROR: queues attempt + 1 (409 `conflict` otherwise). Playback tokens of earlier attempts stop working.",
  security: BEARER,
  request: { params: TranscodeIdParams },
  responses: {
    202: { description: "Queued with the next attempt.", content: { "application/json": { schema: TranscodeEnvelope } } },
    ...problems(401, 403, 404, 409, 503),
  },
});

export function registerRetryTranscode(app: App) {
  app.openapi(retryTranscodeRoute, async (c) => {
    const { id, tid } = c.req.valid("param");
    return c.json({ transcode: await retryTranscode(c.var.deps, c.var.user.id, id, tid) }, 202);
  });
}
