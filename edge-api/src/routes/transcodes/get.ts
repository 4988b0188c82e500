/** `GET /v1/videos/{id}/transcodes/{tid}`: one transcode, its progress and its outputs. */
import { createRoute } from "@hono/zod-openapi";
import { TranscodeEnvelope, TranscodeIdParams } from "../../../../schema/api.ts";
import { getTranscodeRow } from "../../services/transcodes/get-transcode.ts";
import { toTranscode } from "../../services/transcodes/serialize.ts";
import { getVideoRow } from "../../services/videos/get-video.ts";
import { BEARER, problems, type App } from "../shared.ts";

export const getTranscodeRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}/transcodes/{tid}",
  operationId: "getTranscode",
  tags: ["transcodes"],
  summary: "Get a transcode",
  description:
    "Status, progress (0..1), speed (× real time) and ETA while it runs; once TRANSCODE_SUCCESS, every output with its facts and a link: a presigned GET URL for MP4/WebM files, the tokenized playlist URL for HLS (`playbackUrl` is the master playlist: play it with hls.js, Safari or `ffmpeg -i`, no bearer token needed). Links expire after DOWNLOAD_URL_TTL_SECONDS: get the transcode again for fresh ones.",
  security: BEARER,
  request: { params: TranscodeIdParams },
  responses: {
    200: { description: "The transcode.", content: { "application/json": { schema: TranscodeEnvelope } } },
    ...problems(401, 404),
  },
});

export function registerGetTranscode(app: App) {
  app.openapi(getTranscodeRoute, async (c) => {
    const { id, tid } = c.req.valid("param");
    const video = await getVideoRow(c.var.deps, c.var.user.id, id);
    const row = await getTranscodeRow(c.var.deps, c.var.user.id, id, tid);
    return c.json({ transcode: await toTranscode(c.var.deps, row, video.filename, c.var.config.downloadUrlTtlSeconds) }, 200);
  });
}
