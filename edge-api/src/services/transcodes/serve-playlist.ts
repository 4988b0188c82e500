/**
 * Answers an HLS playlist of a succeeded transcode to a player without a bearer token (docs/architecture.md
 * "Playback tokens"): the `token` must open this transcode's current attempt (./playback.ts), then the
 * stored playlist is rewritten (./rewrite-playlist.ts):
 * - master playlist: each variant URI becomes the tokenized URL of that variant's playlist route, relative
 *   to the master's URL (`hls/720/index.m3u8?token=…`), so the player comes back to the Worker;
 * - media playlist: the init segment (`#EXT-X-MAP`) and every media segment become presigned GET URLs of
 *   their objects, expiring with the token (segments never pass through the Worker).
 * Only objects under the transcode attempt's prefix are served.
 */
import { and, eq } from "drizzle-orm";
import { transcodes } from "../../../../schema/db.ts";
import { parseS3Uri, transcodeAttemptPrefix } from "../../../../schema/object-keys.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { MAX_PRESIGN_TTL_SECONDS } from "../../env.ts";
import { T_SUCCESS } from "../../lifecycle/statuses.ts";
import { StorageError } from "../../storage/s3.ts";
import { checkPlaybackToken, variantOfKey, variantPlaylistRelativeUrl } from "./playback.ts";
import { PlaylistRewriteError, rewritePlaylist } from "./rewrite-playlist.ts";

/** Largest playlist the Worker reads, bytes (a 2 h media playlist of 6 s segments is ~60 kB). */
export const MAX_PLAYLIST_BYTES = 2 * 1024 * 1024;

/**
 * @param req.variant the variant folder (height) for a media playlist; absent for the master playlist
 * @param now epoch ms
 * @returns the rewritten playlist text
 * @throws ProblemError `not-found` (404: no such transcode, or no such playlist in it), `playback-token-invalid`
 *   (403), `conflict` (409: not TRANSCODE_SUCCESS), `bad-gateway` (502: storage failure or an unservable playlist)
 */
export async function servePlaylist(
  deps: Deps,
  req: { videoId: string; transcodeId: string; token: string; variant?: string },
  now = Date.now(),
): Promise<string> {
  const [row] = await deps.db
    .select()
    .from(transcodes)
    .where(and(eq(transcodes.id, req.transcodeId), eq(transcodes.videoId, req.videoId)))
    .limit(1);
  if (!row) throw new ProblemError("not-found", `No transcode ${req.transcodeId} of video ${req.videoId}.`);
  const scope = { videoId: row.videoId, transcodeId: row.id, attempt: row.attempt };
  const expiresAt = await checkPlaybackToken(deps, scope, req.token, now);
  if (expiresAt === undefined) {
    throw new ProblemError("playback-token-invalid", "The playback token is invalid or expired; get a fresh URL from GET …/transcodes/{tid}.");
  }
  if (row.status !== T_SUCCESS || !row.outputs) throw new ProblemError("conflict", `The transcode is ${row.status}, not ready for playback.`);

  const hls = row.outputs.filter((o) => o.format === "hls").map((o) => ({ ...o, ...parseS3Uri(o.uri) }));
  const playlist = req.variant === undefined ? hls.find((o) => variantOfKey(o.key) === undefined) : hls.find((o) => variantOfKey(o.key) === req.variant);
  if (!playlist) throw new ProblemError("not-found", req.variant === undefined ? "This transcode has no HLS rendition." : `This transcode has no HLS variant ${req.variant}.`);
  const bucket = deps.config.videosBucket;
  const prefix = transcodeAttemptPrefix(row.userId, row.videoId, row.id, row.attempt);
  if (playlist.bucket !== bucket || !playlist.key.startsWith(prefix)) throw new ProblemError("not-found", "The playlist is not stored with this transcode.");

  let text: string | null;
  try {
    text = await deps.storage.getObjectText(bucket, playlist.key, MAX_PLAYLIST_BYTES);
  } catch (err) {
    throw new ProblemError("bad-gateway", "The playlist could not be read from storage.", { cause: err });
  }
  if (text === null) throw new ProblemError("not-found", "The playlist is no longer stored.");

  const variants = new Map(hls.flatMap((o) => (variantOfKey(o.key) ? [[o.key, variantOfKey(o.key)!] as const] : [])));
  const ttlSeconds = Math.max(1, Math.min(MAX_PRESIGN_TTL_SECONDS, expiresAt - Math.floor(now / 1000)));
  const mapUri =
    req.variant === undefined
      ? async (key: string) => {
          const variant = variants.get(key);
          return variant === undefined ? undefined : variantPlaylistRelativeUrl(variant, req.token);
        }
      : async (key: string) =>
          key.startsWith(prefix) && !key.endsWith(".m3u8") ? (await deps.storage.presignGet({ bucket, key, ttlSeconds })).url : undefined;
  try {
    return await rewritePlaylist(text, playlist.key, mapUri);
  } catch (err) {
    if (err instanceof PlaylistRewriteError || err instanceof StorageError) {
      throw new ProblemError("bad-gateway", "The stored playlist cannot be served.", { cause: err });
    }
    throw err;
  }
}
