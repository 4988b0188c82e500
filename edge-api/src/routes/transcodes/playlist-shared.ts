/**
 * What the two HLS playlist routes (./master-playlist.ts, ./variant-playlist.ts) share: their paths, which
 * the app exempts from bearer authentication (the `token` query parameter authenticates them) and answers
 * with CORS for any origin (GET only, no credentials), so hls.js on any page can play them; and their
 * response.
 */
import { z } from "@hono/zod-openapi";
import { PlaybackTokenQuery } from "../../../../schema/api.ts";
import { problems } from "../shared.ts";

/** Paths of the playlist routes: `…/transcodes/{tid}/master.m3u8` and `…/transcodes/{tid}/hls/{height}/index.m3u8`. */
const PLAYLIST_PATH = /^\/v1\/videos\/[^/]+\/transcodes\/[^/]+\/(?:master\.m3u8|hls\/[^/]+\/index\.m3u8)$/;

/** True for a request path answered by a playlist route (no bearer token, CORS `*`). */
export function isPlaylistPath(path: string): boolean {
  return PLAYLIST_PATH.test(path);
}

/** MIME type of HLS playlists (RFC 8216 §4). */
export const PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl";

/** The OpenAPI pieces of both routes. */
export const playlistRequestQuery = PlaybackTokenQuery;
export const playlistResponses = {
  200: {
    description: "The playlist, its URIs rewritten (variants: tokenized playlist URLs; segments: presigned GET URLs).",
    content: { [PLAYLIST_CONTENT_TYPE]: { schema: z.string().openapi({ example: "#EXTM3U\n#EXT-X-VERSION:7\n…" }) } },
  },
  ...problems(400, 403, 404, 409, 502),
  403: {
    description: "The token is malformed, altered, expired or made for another transcode or attempt (`playback-token-invalid`).",
    content: problems(403)[403].content,
  },
};
