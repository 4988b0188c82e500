/**
 * HLS playback without a bearer token (docs/architecture.md "Playback tokens"): the API hands out playlist
 * URLs carrying a short-lived token (../../signed-url.ts) scoped to one transcode attempt:
 * `["hls", videoId, transcodeId, attempt]`. The Worker answers those playlists itself
 * (../../routes/transcodes/master-playlist.ts, variant-playlist.ts), rewriting their URIs
 * (./rewrite-playlist.ts).
 */
import type { Deps } from "../../context.ts";
import { signUrlToken, verifyUrlToken } from "../../signed-url.ts";

/** What a playback token is bound to: one attempt of one transcode of one video. */
export interface PlaybackScope {
  videoId: string;
  transcodeId: string;
  attempt: number;
}

/** The signed scope of a playback token. */
export function hlsTokenScope(s: PlaybackScope): string[] {
  return ["hls", s.videoId, s.transcodeId, String(s.attempt)];
}

/** A playback token and when it expires. */
export interface PlaybackToken {
  token: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/**
 * @param ttlSeconds lifetime, seconds (DOWNLOAD_URL_TTL_SECONDS for API answers, EMAIL_LINK_TTL_SECONDS for emails)
 * @param now epoch ms
 */
export async function makePlaybackToken(deps: Pick<Deps, "config">, scope: PlaybackScope, ttlSeconds: number, now = Date.now()): Promise<PlaybackToken> {
  const expiresAt = Math.floor(now / 1000) + ttlSeconds;
  return { token: await signUrlToken(deps.config.betterAuthSecret, hlsTokenScope(scope), expiresAt), expiresAt };
}

/**
 * @returns the token's expiry (epoch seconds) when `token` opens `scope` now, else undefined (malformed,
 *   altered, expired, or made for another transcode or attempt)
 */
export async function checkPlaybackToken(deps: Pick<Deps, "config">, scope: PlaybackScope, token: string, now = Date.now()): Promise<number | undefined> {
  const result = await verifyUrlToken(deps.config.betterAuthSecret, hlsTokenScope(scope), token, now);
  return result.ok ? result.expiresAt : undefined;
}

/** Path of a transcode's routes under the API: `/v1/videos/{videoId}/transcodes/{transcodeId}`. */
export function transcodePath(videoId: string, transcodeId: string): string {
  return `/v1/videos/${encodeURIComponent(videoId)}/transcodes/${encodeURIComponent(transcodeId)}`;
}

/** Absolute URL of the master playlist with its token. @param baseUrl PUBLIC_BASE_URL */
export function masterPlaylistUrl(baseUrl: string, scope: PlaybackScope, token: string): string {
  return `${baseUrl}${transcodePath(scope.videoId, scope.transcodeId)}/master.m3u8?token=${encodeURIComponent(token)}`;
}

/**
 * URL of a variant's media playlist relative to the master playlist's URL (what the rewritten master
 * lists), e.g. `hls/720/index.m3u8?token=…`.
 * @param variant the variant folder name (its height, pixels)
 */
export function variantPlaylistRelativeUrl(variant: string, token: string): string {
  return `hls/${encodeURIComponent(variant)}/index.m3u8?token=${encodeURIComponent(token)}`;
}

/** Absolute URL of a variant's media playlist with its token. @param baseUrl PUBLIC_BASE_URL */
export function variantPlaylistUrl(baseUrl: string, scope: PlaybackScope, variant: string, token: string): string {
  return `${baseUrl}${transcodePath(scope.videoId, scope.transcodeId)}/${variantPlaylistRelativeUrl(variant, token)}`;
}

/** The variant folder of an HLS media playlist key (`…/hls/720/index.m3u8` → `720`), else undefined. */
export function variantOfKey(key: string): string | undefined {
  return /\/hls\/([0-9]{1,5})\/index\.m3u8$/.exec(key)?.[1];
}
