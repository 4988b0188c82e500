/**
 * Signed image URLs (docs/architecture.md "Images on demand"): a URL of an image on demand that opens it
 * with no header, for `<img src>` and players' thumbnail tracks. The token (../../signed-url.ts) signs
 * `["image", videoId, file, canonicalSpec(spec)]`: the route rebuilds that scope from its own path and
 * its normalized query, so a token opens one image of one video with exactly its parameters (any other
 * value, another file or another video → 403), until its expiry.
 */
import { canonicalSpec, type RenderSpec } from "../../../../schema/image-options.ts";
import type { Deps } from "../../context.ts";
import { signUrlToken, verifyUrlToken } from "../../signed-url.ts";

/** The signed scope of an image token. @param file the path's last segment, e.g. `thumbnail.jpg` */
export function imageTokenScope(videoId: string, file: string, spec: RenderSpec): string[] {
  return ["image", videoId, file, canonicalSpec(spec)];
}

/**
 * @param expiresAt epoch seconds
 * @returns the token (`<expiry>.<base64url HMAC>`)
 */
export function signImageToken(deps: Pick<Deps, "config">, videoId: string, file: string, spec: RenderSpec, expiresAt: number): Promise<string> {
  return signUrlToken(deps.config.betterAuthSecret, imageTokenScope(videoId, file, spec), expiresAt);
}

/**
 * @param now epoch ms
 * @returns the token's expiry (epoch seconds) when it opens this image now, else undefined
 */
export async function checkImageToken(
  deps: Pick<Deps, "config">,
  videoId: string,
  file: string,
  spec: RenderSpec,
  token: string,
  now = Date.now(),
): Promise<number | undefined> {
  const result = await verifyUrlToken(deps.config.betterAuthSecret, imageTokenScope(videoId, file, spec), token, now);
  return result.ok ? result.expiresAt : undefined;
}

/**
 * Absolute URL of an image route.
 * @param baseUrl PUBLIC_BASE_URL
 * @param query the image's query parameters as the client gave them (the route normalizes them again)
 * @param token appended as `token` when given
 */
export function imageUrl(baseUrl: string, videoId: string, file: string, query: Record<string, string | number | undefined>, token?: string): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && k !== "token") params.set(k, String(v));
  if (token) params.set("token", token);
  const qs = params.toString();
  return `${baseUrl}/v1/videos/${encodeURIComponent(videoId)}/${file}${qs ? `?${qs}` : ""}`;
}
