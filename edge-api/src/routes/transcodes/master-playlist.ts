/** `GET /v1/videos/{id}/transcodes/{tid}/master.m3u8?token=…`: the HLS master playlist, no bearer token. */
import { createRoute } from "@hono/zod-openapi";
import { TranscodeIdParams } from "../../../../schema/api.ts";
import { servePlaylist } from "../../services/transcodes/serve-playlist.ts";
import { PUBLIC, type App } from "../shared.ts";
import { PLAYLIST_CONTENT_TYPE, playlistRequestQuery, playlistResponses } from "./playlist-shared.ts";

export const getMasterPlaylistRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}/transcodes/{tid}/master.m3u8",
  operationId: "getTranscodeMasterPlaylist",
  tags: ["transcodes"],
  summary: "HLS master playlist (playback)",
  description:
    "For players: authenticated by its `token` (from the transcode's `playbackUrl`), not by a bearer token; CORS allows any origin. Each variant URI points to that variant's playlist route with the same token. Tokens expire with the links of the answer that gave them (DOWNLOAD_URL_TTL_SECONDS, or EMAIL_LINK_TTL_SECONDS in emails) and open only this transcode's current attempt.",
  security: PUBLIC,
  request: { params: TranscodeIdParams, query: playlistRequestQuery },
  responses: playlistResponses,
});

export function registerGetMasterPlaylist(app: App) {
  app.openapi(getMasterPlaylistRoute, async (c) => {
    const { id, tid } = c.req.valid("param");
    const text = await servePlaylist(c.var.deps, { videoId: id, transcodeId: tid, token: c.req.valid("query").token });
    return c.body(text, 200, { "content-type": PLAYLIST_CONTENT_TYPE });
  });
}
