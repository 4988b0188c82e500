/**
 * Images on demand (docs/architecture.md "Images on demand"): finds the video a request may read (its
 * owner, or a signed URL token), then gets the image from the fastest place that has it:
 *   1. the Cache API (`caches.default`, per Cloudflare location; absent elsewhere it is skipped),
 *   2. the images bucket under `renderedImageKey` (schema/object-keys.ts): the key is derived from the
 *      user, the video, its source's ETag (or attempt) and the digest of the normalized parameters, so every
 *      distinct image is rendered once and a replaced source never serves old pixels,
 *   3. the processor (`POST /renders` through the ProcessorContainer object, never a queue), counted against
 *      the user's render budget (IMAGE_RATE_LIMITER); the image is answered at once (its ETag is the MD5
 *      of its bytes, what the bucket gives it) and stored in 2 and 1 after the answer (`waitUntil`).
 *      Identical misses in one isolate wait for the same render until it is stored.
 */
import { and, eq } from "drizzle-orm";
import { videos } from "../../../../schema/db.ts";
import { canonicalSpec, RENDER_CONTENT_TYPES, type RenderRequest, type RenderSpec } from "../../../../schema/image-options.ts";
import { renderedImageKey } from "../../../../schema/object-keys.ts";
import { errorFields } from "../../../../runtime/log.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { SOURCE_NOT_STORED } from "../../lifecycle/statuses.ts";
import { getProcessor } from "../../processor/index.ts";
import { consumeRateLimit } from "../../rate-limit.ts";
import { CredentialsMintError } from "../../storage/temp-credentials.ts";
import { renderCredentials } from "./render-credentials.ts";
import type { VideoRow } from "../videos/serialize.ts";
import { checkImageToken } from "./image-token.ts";

/** Largest image the Worker reads back from storage, bytes (the processor caps renders at 48 MiB). */
export const MAX_IMAGE_BYTES = 48 * 1024 * 1024;
/**
 * How long the Worker waits for a render, ms: the processor's RENDER_TIMEOUT_SECONDS (30 s) plus a margin
 * for probing and the answer; past it the request is aborted, which kills the processor's ffmpeg.
 */
export const RENDER_REQUEST_TIMEOUT_MS = 45_000;
/** Origin of the Cache API keys: never fetched, only names cache entries (no client can reach it). */
const CACHE_ORIGIN = "https://image-cache.vidsnap.invalid/";
/** Lifetime of an entry in the Cache API, seconds (its key changes when the source or parameters do). */
export const EDGE_CACHE_SECONDS = 86_400;

/** Who asks for an image: its owner (authenticated) or the holder of a signed URL. */
export interface ImageAccess {
  videoId: string;
  /** The path's last segment, e.g. `thumbnail.jpg` (part of a token's scope). */
  file: string;
  spec: RenderSpec;
  /** Set when authenticated by bearer token, API key or cookie. */
  userId?: string | undefined;
  /** Set when authenticated by a signed URL. */
  token?: string | undefined;
}

/** An image ready to answer. */
export interface StoredImage {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  /** Strong ETag, quoted. */
  etag: string;
  /** Where it came from (logged; `x-image-cache` header). */
  from: "edge" | "storage" | "render";
}

/**
 * The video the request may read images of, and the expiry of the token that opened it (epoch seconds).
 * @param now epoch ms (token expiry)
 * @throws ProblemError `not-found` (404: no such video, or another user's), `image-token-invalid` (403:
 *   malformed, altered, expired or made for another image or video), `upload-incomplete` (409)
 */
export async function imageVideo(deps: Deps, access: ImageAccess, now = Date.now()): Promise<{ row: VideoRow; tokenExpiresAt?: number }> {
  const owner = access.token === undefined ? access.userId : undefined;
  if (access.token === undefined && owner === undefined) throw new ProblemError("unauthorized", "Sign in, or use a signed image URL.");
  const where = owner === undefined ? eq(videos.id, access.videoId) : and(eq(videos.id, access.videoId), eq(videos.userId, owner));
  const [row] = await deps.db.select().from(videos).where(where).limit(1);
  let tokenExpiresAt: number | undefined;
  if (access.token !== undefined) {
    // Checked before the row's existence is told: a forged token learns nothing about ids.
    tokenExpiresAt = await checkImageToken(deps, access.videoId, access.file, access.spec, access.token, now);
    if (tokenExpiresAt === undefined) throw new ProblemError("image-token-invalid", "The image token is invalid, expired or made for another image; get a fresh URL from POST /v1/videos/{id}/image-urls.");
  }
  if (!row) throw new ProblemError("not-found", `No video ${access.videoId}.`);
  if (SOURCE_NOT_STORED.includes(row.status) || row.attempt < 1) {
    throw new ProblemError(
      "upload-incomplete",
      "The video's source is not stored yet; images are available once POST /v1/videos/{id}/complete succeeded (or its import finished).",
    );
  }
  return tokenExpiresAt === undefined ? { row } : { row, tokenExpiresAt };
}

/** Lowercase hex SHA-256 of a text, `hexChars` long. */
async function digest(text: string, hexChars: number): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, hexChars);
}

/** Extension of a spec's stored object (its format; `json` for a storyboard plan). */
function extensionOf(spec: RenderSpec): string {
  return spec.format;
}

/**
 * The object key of a spec's image: user, video, source tag (digest of the source ETag, or the attempt
 * when the video has none recorded) and the digest of the normalized parameters.
 */
export async function imageObjectKey(row: Pick<VideoRow, "id" | "userId" | "sourceEtag" | "attempt">, spec: RenderSpec): Promise<string> {
  const sourceTag = row.sourceEtag ? `etag-${await digest(row.sourceEtag, 16)}` : `attempt-${row.attempt}`;
  return renderedImageKey(row.userId, row.id, sourceTag, await digest(canonicalSpec(spec), 32), extensionOf(spec));
}

/**
 * The image of `spec` for a video the caller may read (see the module docstring for the order).
 * @param opts.waitUntil keeps the images bucket and Cache API writes alive after the answer (the request's
 *   execution context); without it they are awaited before returning
 * @throws ProblemError `validation` (400, a time past the video's end, naming the parameter),
 *   `video-unrenderable` (422), `rate-limited` (429), `bad-gateway` (502), `service-unavailable` (503,
 *   processor busy or unreachable, with Retry-After), `render-timeout` (504)
 */
export async function renderedImage(
  deps: Deps,
  row: VideoRow,
  spec: RenderSpec,
  opts: { waitUntil?: (p: Promise<unknown>) => void; requestId?: string } = {},
): Promise<StoredImage> {
  const key = await imageObjectKey(row, spec);
  const cache = typeof caches === "undefined" ? undefined : caches.default;
  const cacheKey = CACHE_ORIGIN + key;
  const hit = await cache?.match(cacheKey).catch(() => undefined);
  if (hit?.ok) {
    return {
      bytes: new Uint8Array(await hit.arrayBuffer()),
      contentType: hit.headers.get("content-type") ?? contentTypeOf(spec),
      etag: hit.headers.get("etag") ?? `"${await digest(key, 32)}"`,
      from: "edge",
    };
  }
  const bucket = deps.config.imagesBucket;
  let stored: Awaited<ReturnType<Deps["storage"]["getObjectBytes"]>>;
  try {
    stored = await deps.storage.getObjectBytes(bucket, key, MAX_IMAGE_BYTES);
  } catch (err) {
    throw new ProblemError("bad-gateway", "The images storage could not be read.", { cause: err });
  }
  let image: StoredImage;
  if (stored) {
    image = { bytes: stored.bytes, contentType: stored.contentType ?? contentTypeOf(spec), etag: stored.etag ?? `"${await digest(key, 32)}"`, from: "storage" };
  } else {
    // Identical misses in this isolate share one render (a list asking the same image twice, a burst of
    // viewers), until the image is stored: a request arriving meanwhile is not a second render.
    let pending = RENDERS_IN_FLIGHT.get(key);
    if (!pending) {
      const rendered = renderImage(deps, row, spec, key, opts.requestId);
      pending = rendered.then((r) => r.image);
      RENDERS_IN_FLIGHT.set(key, pending);
      const storing = rendered.then((r) => r.stored, () => undefined).finally(() => RENDERS_IN_FLIGHT.delete(key));
      // The answer does not wait for the images bucket (its PUT took 15–150 ms locally).
      if (opts.waitUntil) opts.waitUntil(storing);
      else await storing;
    }
    image = await pending;
  }
  if (cache) {
    const put = cache
      .put(cacheKey, new Response(image.bytes, { headers: { "content-type": image.contentType, etag: image.etag, "cache-control": `public, max-age=${EDGE_CACHE_SECONDS}` } }))
      .catch((err: unknown) => deps.log.warn("edge cache write failed", errorFields(err)));
    if (opts.waitUntil) opts.waitUntil(put);
    else await put;
  }
  return image;
}

/** Renders running (or being stored) in this isolate, by object key. */
const RENDERS_IN_FLIGHT = new Map<string, Promise<StoredImage>>();

/**
 * The strong ETag of an image: the quoted hex MD5 of its bytes, the value S3 and R2 give a single-PUT
 * object, so the answer of a render and a later read from the images bucket carry the same validator
 * without waiting for the PUT.
 */
export async function imageEtag(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  // MD5 is a non-standard algorithm of the Workers runtime (node:crypto elsewhere has it too).
  const hash = new Uint8Array(await crypto.subtle.digest("MD5", bytes));
  return `"${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

/**
 * Renders a missing image (one unit of the user's render budget); `stored` completes once it is in the
 * images bucket (a failed store is logged and the image served anyway: the next request renders again).
 */
async function renderImage(deps: Deps, row: VideoRow, spec: RenderSpec, key: string, requestId?: string): Promise<{ image: StoredImage; stored: Promise<void> }> {
  const t0 = performance.now();
  await consumeRateLimit(deps.env, deps.log, "IMAGE_RATE_LIMITER", "image render", row.userId);
  const t1 = performance.now();
  const bytes = await renderOnProcessor(deps, row, spec, requestId);
  const t2 = performance.now();
  const contentType = contentTypeOf(spec);
  const image: StoredImage = { bytes, contentType, etag: await imageEtag(bytes), from: "render" };
  const stored = storeImage(deps, row, key, image).then((storeMs) =>
    // Where an uncached image's time went (performance.now() advances only across I/O on Workers).
    deps.log.info("image rendered", { kind: spec.kind, bytes: bytes.length, rateLimitMs: Math.round(t1 - t0), renderMs: Math.round(t2 - t1), storeMs }),
  );
  return { image, stored };
}

/**
 * Stores a rendered image in the images bucket after its answer. The video may have been deleted
 * meanwhile, its images purged before this PUT landed: the record is read again once the object is
 * stored, and the object removed when the record is gone (a deletion committed later lists it itself).
 * Never throws: a failure is logged (the next request renders again; an orphan left by a failed removal
 * is logged with its key).
 * @returns wall time of the PUT, ms
 */
export async function storeImage(deps: Deps, row: Pick<VideoRow, "id" | "userId">, key: string, image: StoredImage): Promise<number> {
  const started = performance.now();
  const bucket = deps.config.imagesBucket;
  try {
    const etag = await deps.storage.putObject(bucket, key, image.bytes, image.contentType);
    if (etag !== null && etag !== image.etag) deps.log.warn("stored image has another ETag", { key, stored: etag, served: image.etag });
  } catch (err) {
    deps.log.warn("rendered image not stored", { key, ...errorFields(err) });
    return Math.round(performance.now() - started);
  }
  const storeMs = Math.round(performance.now() - started);
  try {
    const [still] = await deps.db.select({ id: videos.id }).from(videos).where(and(eq(videos.id, row.id), eq(videos.userId, row.userId))).limit(1);
    if (!still) await deps.storage.deleteObject(bucket, key);
  } catch (err) {
    deps.log.warn("image of a deleted video may be left", { key, ...errorFields(err) });
  }
  return storeMs;
}

/** Content type of a spec's output. */
export function contentTypeOf(spec: RenderSpec): string {
  return (RENDER_CONTENT_TYPES[spec.kind] as Record<string, string>)[spec.format]!;
}

/**
 * One `POST /renders` to the processor instance of the video (routed by its id), signed by the seam.
 * @returns the image bytes
 * @throws ProblemError mapped from the processor's answer (see {@link renderedImage})
 */
async function renderOnProcessor(deps: Deps, row: VideoRow, spec: RenderSpec, requestId?: string): Promise<Uint8Array<ArrayBuffer>> {
  let credentials;
  try {
    credentials = await renderCredentials(deps.config, row.userId, row.id);
  } catch (err) {
    if (!(err instanceof CredentialsMintError)) throw err;
    deps.log.warn("storage credentials not minted", { error: err.message });
    throw new ProblemError("service-unavailable", "The image processor is unavailable; retry shortly.", { headers: { "retry-after": "5" } });
  }
  const body: RenderRequest = { userId: row.userId, videoId: row.id, ...(row.sourceEtag ? { sourceEtag: row.sourceEtag } : {}), spec, credentials };
  let res: Response;
  try {
    res = await getProcessor(deps.env, deps.config, row.id).fetch(
      new Request("http://processor/renders", {
        method: "POST",
        headers: { "content-type": "application/json", ...(requestId ? { "x-request-id": requestId } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(RENDER_REQUEST_TIMEOUT_MS),
      }),
    );
  } catch (err) {
    throw new ProblemError("service-unavailable", "The image processor is unavailable; retry shortly.", { cause: err, headers: { "retry-after": "5" } });
  }
  if (res.ok) return new Uint8Array(await res.arrayBuffer());
  const problem = (await res.json().catch(() => ({}))) as { detail?: string; param?: string };
  const detail = problem.detail ?? `The processor answered ${res.status}.`;
  deps.log.warn("render refused", { status: res.status, detail, kind: spec.kind });
  switch (res.status) {
    case 400:
      if (problem.param) throw new ProblemError("validation", `The request query is invalid: ${detail}`, { errors: [{ path: problem.param, message: detail }] });
      throw new ProblemError("internal", "The render request was refused by the processor.");
    case 422:
      throw new ProblemError("video-unrenderable", detail);
    case 503:
      throw new ProblemError("service-unavailable", "The image processor is busy; retry shortly.", { headers: { "retry-after": res.headers.get("retry-after") ?? "1" } });
    case 504:
      throw new ProblemError("render-timeout", detail);
    default:
      throw new ProblemError("service-unavailable", "The image processor is unavailable; retry shortly.", { headers: { "retry-after": "5" } });
  }
}
