/** `POST /v1/videos/{id}/transcodes`: ask for renditions of a video. */
import { createRoute } from "@hono/zod-openapi";
import { TranscodeEnvelope, VideoIdParams } from "../../../../schema/api.ts";
import { TranscodeRequest } from "../../../../schema/transcode-options.ts";
import { createTranscode, MAX_ACTIVE_TRANSCODES_PER_VIDEO } from "../../services/transcodes/create-transcode.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const createTranscodeRoute = createRoute({
  method: "post",
  path: "/v1/videos/{id}/transcodes",
  operationId: "createTranscode",
  tags: ["transcodes"],
  summary: "Transcode a video",
  description: `Makes the asked renditions (\`mp4\`, \`webm\`, \`hls\`) from one decode of the video. Allowed at any time after the video was created: before its upload is completed the transcode waits in TRANSCODE_PENDING and \`/complete\` queues it; afterwards it is queued at once. Poll \`GET …/transcodes/{tid}\` for progress, speed and ETA. A bad option is a 400 \`validation\` naming it (e.g. \`renditions.0.height\`); a height above the source's fails the transcode unless \`upscale: true\`. 409 \`conflict\` when ${MAX_ACTIVE_TRANSCODES_PER_VIDEO} transcodes of the video are already waiting or running.`,
  security: BEARER,
  request: { params: VideoIdParams, body: { required: true, content: { "application/json": { schema: TranscodeRequest } } } },
  responses: {
    202: { description: "Accepted: TRANSCODE_QUEUED, or TRANSCODE_PENDING until the upload is completed.", content: { "application/json": { schema: TranscodeEnvelope } } },
    ...problems(400, 401, 403, 404, 409, 503),
  },
});

export function registerCreateTranscode(app: App) {
  app.openapi(createTranscodeRoute, async (c) => {
    const transcode = await createTranscode(c.var.deps, c.var.user.id, c.req.valid("param").id, c.req.valid("json"));
    return c.json({ transcode }, 202);
  });
}
