/** `GET /v1/videos/{id}/transcodes/{tid}/hls/{height}/index.m3u8?token=…`: one HLS variant's media playlist. */
import { createRoute } from "@hono/zod-openapi";
import { HlsVariantParams } from "../../../../schema/api.ts";
import { servePlaylist } from "../../services/transcodes/serve-playlist.ts";
import { PUBLIC, type App } from "../shared.ts";
import { PLAYLIST_CONTENT_TYPE, playlistRequestQuery, playlistResponses } from "./playlist-shared.ts";

export const getVariantPlaylistRoute = createRoute({
  method: "get",
  path: "/v1/videos/{id}/transcodes/{tid}/hls/{height}/index.m3u8",
  operationId: "getTranscodeVariantPlaylist",
  tags: ["transcodes"],
  summary: "HLS media playlist of one variant (playback)",
  description:
    "For players, reached from the master playlist: authenticated by its `token`, CORS for any origin. The init segment and every media segment are presigned GET URLs of the stored objects, expiring with the token.",
  security: PUBLIC,
  request: { params: HlsVariantParams, query: playlistRequestQuery },
  responses: playlistResponses,
});

export function registerGetVariantPlaylist(app: App) {
  app.openapi(getVariantPlaylistRoute, async (c) => {
    const { id, tid, height } = c.req.valid("param");
    const text = await servePlaylist(c.var.deps, { videoId: id, transcodeId: tid, token: c.req.valid("query").token, variant: String(height) });
    return c.body(text, 200, { "content-type": PLAYLIST_CONTENT_TYPE });
  });
}
