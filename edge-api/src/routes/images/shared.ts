/**
 * What the image routes (./thumbnail.ts, ./animated.ts, ./storyboard.ts) share: their paths, which the app
 * lets through without a bearer token when they carry a signed `token` (checked by the service instead)
 * and answers with CORS for any origin (GET, no credentials: players fetch thumbnail tracks); their
 * security and responses in the OpenAPI document; and the answer with ETag / If-None-Match → 304.
 */
import type { Context } from "hono";
import type { AppEnv } from "../../context.ts";
import type { StoredImage } from "../../services/images/serve-image.ts";
import { BEARER, problems } from "../shared.ts";

const IMAGE_PATH = /^\/v1\/videos\/[^/]+\/(?:thumbnail\.(?:jpg|png|webp)|animated\.(?:gif|webp)|storyboard\.(?:jpg|webp|vtt|json))$/;

/** True for a request path answered by an image route. */
export function isImagePath(path: string): boolean {
  return IMAGE_PATH.test(path);
}

/** True for an image request authenticated by its `token` query parameter (no bearer token needed). */
export function isSignedImageRequest(path: string, url: string): boolean {
  return isImagePath(path) && new URL(url).searchParams.has("token");
}

/** A bearer token / API key / cookie, or a signed URL's `token` (no credential header: an empty requirement). */
export const BEARER_OR_TOKEN = [...BEARER, {}];

/** Browser caching of an image: private (it belongs to one user), an hour (its URL names exact pixels). */
export const IMAGE_CACHE_CONTROL = "private, max-age=3600";

/** OpenAPI responses of an image route answering `contentType`. */
export function imageResponses(contentType: string, description: string) {
  const binary = contentType.startsWith("image/");
  return {
    200: {
      description,
      headers: {
        ETag: { schema: { type: "string" as const }, description: "Strong validator; send it back as If-None-Match." },
        "Cache-Control": { schema: { type: "string" as const } },
      },
      content: { [contentType]: { schema: binary ? { type: "string" as const, format: "binary" } : { type: "string" as const } } },
    },
    304: { description: "Not modified (If-None-Match matched the ETag)." },
    ...problems(400, 401, 404, 409, 429, 502, 503),
    403: { description: "The `token` is malformed, altered, expired or made for another image or video (`image-token-invalid`).", content: problems(403)[403].content },
    422: { description: "The video cannot be rendered: damaged, audio only, or replaced (`video-unrenderable`).", content: problems(422)[422].content },
    504: { description: "The render took too long (`render-timeout`).", content: problems(504)[504].content },
  };
}

/** True when an If-None-Match header lists `etag` (or is `*`); weak comparison, as RFC 9110 asks for GET. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag));
}

/** Answers an image or text body with its ETag, or 304 when the client has it. */
export function imageResponse(c: Context<AppEnv>, body: Pick<StoredImage, "bytes" | "contentType" | "etag"> & { from?: string }): Response {
  const headers: Record<string, string> = { etag: body.etag, "cache-control": IMAGE_CACHE_CONTROL, ...(body.from ? { "x-image-cache": body.from } : {}) };
  if (etagMatches(c.req.header("if-none-match"), body.etag)) return c.body(null, 304, headers);
  return c.body(body.bytes, 200, { ...headers, "content-type": body.contentType });
}

/** `waitUntil` of the request when the runtime has one (Workers), else undefined. */
export function waitUntilOf(c: Context<AppEnv>): ((p: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return undefined;
  }
}
