/**
 * Typed TypeScript client of the vidsnap REST API, built on openapi-fetch over the types that
 * openapi-typescript generates from the API's own OpenAPI document (client/openapi.json →
 * ./openapi.d.ts, refreshed by `npm run client:generate`; tests fail when either drifts from the
 * Worker's `/openapi.json`).
 *
 * ```ts
 * const api = createVidsnapClient({ baseUrl: "http://127.0.0.1:8787", token });
 * const video = unwrap(await api.GET("/v1/videos/{id}", { params: { path: { id } } })).video;
 * ```
 * Errors (`application/problem+json` `{type, title, status, detail, requestId}`) become
 * {@link VidsnapApiError} through {@link unwrap} / {@link toApiError}. Runs on Node 20+, browsers and
 * Workers (only `fetch`). Uploads: ./upload-protocol.ts (any byte source), ./upload.ts (local files, Node).
 */
import createClient, { type Client } from "openapi-fetch";
import { backoffDelay } from "../../runtime/backoff.ts";
import { PROBLEM_TYPE_BASE, problemKind } from "../../schema/problem.ts";
import type { components, paths } from "./openapi.d.ts";

export type { components, paths } from "./openapi.d.ts";
/** Schemas of the API (OpenAPI components), e.g. `Schemas["Video"]`. */
export type Schemas = components["schemas"];
export type Video = Schemas["Video"];
export type VideoStatus = Video["status"];
export type ImageList = Schemas["ImageList"];
export type VideoList = Schemas["VideoList"];
export type Problem = Schemas["Problem"];
export type ExtractionOptions = Schemas["ExtractionOptions"];
export type Transcode = Schemas["Transcode"];
export type TranscodeStatus = Transcode["status"];
export type Generator = Schemas["Generator"];
export type TranscodeRequest = Schemas["TranscodeRequest"];
export type VideoEvent = Schemas["VideoEvent"];
/** The typed openapi-fetch client: `GET`, `POST`, `DELETE`… keyed by the API's paths. */
export type VidsnapClient = Client<paths>;

export { PROBLEM_TYPE_BASE };

/** Answer of `POST /v1/videos`: upload instructions for an upload body, none for an import by URL. */
export type CreateVideoAnswer = Schemas["CreateVideoResponse"] | Schemas["ImportVideoResponse"];

/**
 * The upload instructions of a `POST /v1/videos` answer to an upload body (`filename`, `contentType`, `sizeBytes`).
 * @throws Error for an import's answer, which has none
 */
export function uploadInstructionsOf(answer: CreateVideoAnswer): Schemas["CreateVideoResponse"]["upload"] {
  if (!("upload" in answer)) throw new Error(`POST /v1/videos answered no upload instructions (video ${answer.video.id} is an import)`);
  return answer.upload;
}

/** Statuses after which a video no longer changes by itself (a failed import included). */
export const FINAL_STATUSES: readonly VideoStatus[] = [
  "VIDEO_IMAGE_EXTRACTION_SUCCESS",
  "VIDEO_IMAGE_EXTRACTION_ERROR",
  "VIDEO_IMPORT_ERROR",
  "VIDEO_GENERATION_ERROR",
];

/**
 * A non-2xx answer of the API. `status` is the HTTP status; `kind` the last segment of the problem
 * `type` (e.g. `not-found`, `not-ready`, `unauthorized`), or `http-<status>` when the body was not
 * problem details; `requestId` comes from the body or the `x-request-id` header.
 */
export class VidsnapApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly kind: string;
  readonly title: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  /** The problem body as answered (field issues of validation problems in `errors`). */
  readonly problem: Partial<Problem> | undefined;

  constructor(status: number, problem: Partial<Problem> | undefined, requestId?: string) {
    const title = problem?.title ?? `HTTP ${status}`;
    const detail = problem?.detail ?? "";
    super(detail ? `${title}: ${detail}` : title);
    this.name = "VidsnapApiError";
    this.status = status;
    this.type = problem?.type ?? `about:blank`;
    this.kind = problemKind(this.type) ?? `http-${status}`;
    this.title = title;
    this.detail = detail;
    this.requestId = problem?.requestId ?? requestId;
    this.problem = problem;
  }
}

/** Whether `err` is a {@link VidsnapApiError} (or an error of the same shape from another copy of this module). */
export function isVidsnapApiError(err: unknown): err is VidsnapApiError {
  return (
    err instanceof VidsnapApiError ||
    (err instanceof Error && err.name === "VidsnapApiError" && typeof (err as { status?: unknown }).status === "number")
  );
}

/**
 * Builds the error of a non-2xx response from its (already parsed or raw text) body.
 * @param response the response (status, `x-request-id`)
 * @param body what openapi-fetch put in `error`: the parsed problem object, a string, or undefined
 */
export function toApiError(response: Response, body: unknown): VidsnapApiError {
  let problem: Partial<Problem> | undefined;
  if (body && typeof body === "object") problem = body as Partial<Problem>;
  else if (typeof body === "string" && body.trim()) {
    try {
      const parsed: unknown = JSON.parse(body);
      problem = parsed && typeof parsed === "object" ? (parsed as Partial<Problem>) : { detail: body.slice(0, 300) };
    } catch {
      problem = { detail: body.slice(0, 300) };
    }
  }
  // A JSON error that is not problem details but says `{message}` (e.g. a proxy in front of the API) still gives a detail.
  const message = (problem as { message?: unknown } | undefined)?.message;
  if (problem && problem.detail === undefined && typeof message === "string") problem = { ...problem, detail: message };
  return new VidsnapApiError(response.status, problem, response.headers.get("x-request-id") ?? undefined);
}

/**
 * Returns `data` of an openapi-fetch result, or throws its error.
 * @throws VidsnapApiError when the response was not 2xx
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw toApiError(result.response, result.error);
  return result.data as T;
}

export interface VidsnapClientOptions {
  /** API base URL, e.g. `http://127.0.0.1:8787` (no trailing path). */
  baseUrl: string;
  /** Bearer token (session token from sign-in, or an API key); omitted = anonymous requests, or the session cookie in a browser. */
  token?: string;
  /** Whether requests carry cookies (fetch's `credentials`; the dashboard's session is an HttpOnly cookie). */
  credentials?: RequestCredentials;
  /** fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * Creates the typed client. Every request carries `Authorization: Bearer <token>` when a token is given.
 * @returns an openapi-fetch client typed by the API's paths
 */
export function createVidsnapClient({ baseUrl, token, credentials, fetch: fetchImpl }: VidsnapClientOptions): VidsnapClient {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(credentials ? { credentials } : {}),
    ...(fetchImpl ? { fetch: (request: Request) => fetchImpl(request) } : {}),
  });
}

/** Resolves after `ms` milliseconds, or rejects with the signal's reason once it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The user better-auth reports. */
export interface User {
  id: string;
  email: string;
  name: string;
}

/** A signed-in session: the bearer token and the user. */
export interface Session {
  token: string;
  user: User;
}

/**
 * One JSON call to a better-auth route (`/api/auth/…`, not part of the OpenAPI document).
 * @param route e.g. `/api/auth/get-session`
 * @returns the parsed body (null when empty) and the response (for headers such as `set-auth-token`)
 * @throws VidsnapApiError on a non-2xx answer (problem details: better-auth's message as `detail`, its code in
 *   `problem.code`, e.g. `INVALID_EMAIL_OR_PASSWORD`); TypeError on network failure
 */
export async function authRequest<T>(
  baseUrl: string,
  method: "GET" | "POST",
  route: string,
  body?: unknown,
  fetchImpl: typeof fetch = fetch,
): Promise<{ data: T | null; response: Response }> {
  const response = await fetchImpl(`${baseUrl.replace(/\/+$/, "")}${route}`, {
    method,
    headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw toApiError(response, text || undefined);
  return { data: text ? (JSON.parse(text) as T) : null, response };
}

/**
 * Signs in (`POST /api/auth/sign-in/email`), or signs up (`POST /api/auth/sign-up/email`; `name` defaults to
 * the email's local part) and then signs in. Sign-up never signs in by itself and answers alike whether or
 * not the address already has an account (no account enumeration); the server emails a verification link
 * to a new address. better-auth sets the session cookie on sign-in and answers the token (signed,
 * `<token>.<signature>`) in `set-auth-token`.
 * @returns the user and the token (null when the answer had none)
 * @throws VidsnapApiError (401 wrong credentials, also after sign-up with an existing address and another
 *   password; 400 invalid name or password; 429 rate limited, …)
 */
export async function signInOrUp(
  baseUrl: string,
  mode: "sign-in" | "sign-up",
  credentials: { email: string; password: string; name?: string | undefined },
  fetchImpl: typeof fetch = fetch,
): Promise<{ user: User; token: string | null }> {
  const { email, password } = credentials;
  if (mode === "sign-up") {
    const body = { name: credentials.name || email.split("@")[0], email, password };
    await authRequest<{ user: User }>(baseUrl, "POST", "/api/auth/sign-up/email", body, fetchImpl);
  }
  const { data, response } = await authRequest<{ user: User }>(baseUrl, "POST", "/api/auth/sign-in/email", { email, password }, fetchImpl);
  const user = data?.user;
  if (!user) throw new VidsnapApiError(502, { title: "No user", detail: `${mode} answered without a user` });
  return { user: { id: user.id, email: user.email, name: user.name }, token: response.headers.get("set-auth-token") };
}

/**
 * Signs in or up for a bearer token ({@link signInOrUp}).
 * @param credentials email, password (10+ characters for sign-up); `name` only for sign-up
 * @throws VidsnapApiError (401 wrong credentials, 400 invalid, 502 without a token, …)
 */
export async function authenticate(
  baseUrl: string,
  mode: "sign-in" | "sign-up",
  credentials: { email: string; password: string; name?: string },
  fetchImpl: typeof fetch = fetch,
): Promise<Session> {
  const { user, token } = await signInOrUp(baseUrl, mode, credentials, fetchImpl);
  if (!token) throw new VidsnapApiError(502, { title: "No token", detail: `${mode} answered without a set-auth-token header` });
  return { token, user };
}

export interface WaitOptions<T = Video> {
  /** Called with every state read (progress 0..1, status). */
  onUpdate?: (state: T) => void;
  /** Give up after this many ms (default 10 minutes): throws an Error. */
  timeoutMs?: number;
  /** First delay between two reads, ms (default 250; × 1.5 per read up to `maxDelayMs`). */
  initialDelayMs?: number;
  /** Largest delay between two reads, ms (default 2000). */
  maxDelayMs?: number;
  signal?: AbortSignal;
}

/** Reads in a row that may fail transiently (network error, 5xx) before {@link waitForVideo} gives up. */
export const WAIT_MAX_TRANSIENT_FAILURES = 5;

/**
 * Reads `read()` with backoff until `done(state)`; network errors and 5xx answers are retried (up to
 * {@link WAIT_MAX_TRANSIENT_FAILURES} in a row).
 * @param what names the thing in the timeout message, e.g. `video v1`
 * @returns the last state read
 * @throws what `read` throws when not transient, the last transient error, Error on timeout, the signal's reason
 */
async function pollUntil<T extends { status: string }>(
  what: string,
  read: (signal?: AbortSignal) => Promise<T>,
  done: (state: T) => boolean,
  opts: WaitOptions<T>,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const deadline = Date.now() + timeoutMs;
  const policy = { base: opts.initialDelayMs ?? 250, max: opts.maxDelayMs ?? 2_000, factor: 1.5 };
  let failures = 0;
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    const delay = backoffDelay(attempt, policy);
    let state: T;
    try {
      state = await read(opts.signal);
      failures = 0;
    } catch (err) {
      const transient = !opts.signal?.aborted && (isVidsnapApiError(err) ? err.status >= 500 : err instanceof TypeError);
      if (!transient || ++failures >= WAIT_MAX_TRANSIENT_FAILURES || Date.now() + delay > deadline) throw err;
      await sleep(delay, opts.signal);
      continue;
    }
    opts.onUpdate?.(state);
    if (done(state)) return state;
    if (Date.now() + delay > deadline) throw new Error(`${what} still ${state.status} after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(delay, opts.signal);
  }
}

/**
 * Polls `GET /v1/videos/{id}` with backoff until the video is in a final status
 * (`VIDEO_IMAGE_EXTRACTION_SUCCESS` or `_ERROR`, `VIDEO_IMPORT_ERROR`, `VIDEO_GENERATION_ERROR`) or still `VIDEO_UPLOAD_PENDING` waiting
 * for its upload (nothing will happen). An imported video passes VIDEO_UPLOAD_PENDING for a moment on its way
 * to the extraction (it has a `sourceUrl`): that is not an end.
 * Network errors and 5xx answers are retried (up to {@link WAIT_MAX_TRANSIENT_FAILURES} in a row).
 * @returns the last video read
 * @throws VidsnapApiError (404 when deleted meanwhile, 401), the last transient error, Error on timeout,
 *   the signal's reason when aborted
 */
export async function waitForVideo(api: VidsnapClient, id: string, opts: WaitOptions = {}): Promise<Video> {
  return pollUntil(
    `video ${id}`,
    async (signal) => unwrap(await api.GET("/v1/videos/{id}", { params: { path: { id } }, signal })).video,
    (video) => FINAL_STATUSES.includes(video.status) || (video.status === "VIDEO_UPLOAD_PENDING" && !video.sourceUrl),
    opts,
  );
}

/** Final statuses of a transcode. */
export const TRANSCODE_FINAL_STATUSES: readonly TranscodeStatus[] = ["TRANSCODE_SUCCESS", "TRANSCODE_ERROR"];

/**
 * Polls `GET /v1/videos/{videoId}/transcodes/{transcodeId}` with backoff until the transcode is
 * `TRANSCODE_SUCCESS` or `TRANSCODE_ERROR`; `onUpdate` sees its progress (0..1), `speed` (× real time) and
 * `etaSeconds` on every read. A transcode still `TRANSCODE_PENDING` waits for its video's `complete`: it is
 * polled like any other until the timeout. Transient failures are retried like {@link waitForVideo}'s.
 * @returns the last transcode read (its `outputs` carry fresh links)
 * @throws VidsnapApiError (404 when deleted meanwhile, 401), the last transient error, Error on timeout,
 *   the signal's reason when aborted
 */
export async function waitForTranscode(
  api: VidsnapClient,
  videoId: string,
  transcodeId: string,
  opts: WaitOptions<Transcode> = {},
): Promise<Transcode> {
  return pollUntil(
    `transcode ${transcodeId}`,
    async (signal) =>
      unwrap(await api.GET("/v1/videos/{id}/transcodes/{tid}", { params: { path: { id: videoId, tid: transcodeId } }, signal })).transcode,
    (t) => TRANSCODE_FINAL_STATUSES.includes(t.status),
    opts,
  );
}

/**
 * Formats a transcode's `etaSeconds` (or any span of seconds) the way progress displays show it: `0:42`,
 * `12:05`, `1:02:03` (rounded up to the next second, so a last second is never shown as `0:00`).
 */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/**
 * Asks for the ZIP (`GET /v1/videos/{id}/images.zip`, a 302 to a presigned URL) without following the
 * redirect.
 * @returns the presigned URL of the archive
 * @throws VidsnapApiError (409 `not-ready` until the extraction succeeded, 404)
 */
export async function archiveUrl(api: VidsnapClient, id: string): Promise<string> {
  const result = await api.GET("/v1/videos/{id}/images.zip", { params: { path: { id } }, redirect: "manual", parseAs: "text" });
  const location = result.response.headers.get("location");
  if (result.response.status >= 300 && result.response.status < 400 && location) return location;
  if (result.response.ok) throw new VidsnapApiError(502, { title: "Unexpected answer", detail: `images.zip answered ${result.response.status} without a redirect` });
  throw toApiError(result.response, result.error);
}

/** An image route of a video (`thumbnail.jpg`, `animated.gif`, `storyboard.vtt`…): images on demand. */
export type ImageFile = NonNullable<Schemas["ImageUrlsRequest"]["images"]>[number]["file"];
/** Query parameters of an image route (`time`, `width`, `fit_mode`…; see the API reference). */
export type ImageQuery = Record<string, string | number | undefined>;

/**
 * URL of an image route, for a caller that sends credentials itself (bearer header, or the dashboard's
 * cookie); undefined parameters are left out. Never put a bearer token in it: for `<img src>` use
 * {@link signedImageUrls}.
 * @param baseUrl API origin, e.g. `http://127.0.0.1:8787` ("" for a path on the page's origin)
 * @returns e.g. `http://127.0.0.1:8787/v1/videos/v1/thumbnail.jpg?time=12.5&width=640`
 */
export function imageUrl(baseUrl: string, videoId: string, file: ImageFile, query: ImageQuery = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return `${baseUrl.replace(/\/+$/, "")}/v1/videos/${encodeURIComponent(videoId)}/${file}${qs ? `?${qs}` : ""}`;
}

/**
 * Signed URLs of images (`POST /v1/videos/{id}/image-urls`): each opens its image with no header until
 * `expiresAt`, so it fits `<img src>`, `<track src>` and players.
 * @param images the images, e.g. `[{file: "thumbnail.jpg", query: {time: 12.5}}]` (default: thumbnail, animated GIF, storyboard VTT)
 * @param expiresInSeconds lifetime, 60..604800 (default: the server's DOWNLOAD_URL_TTL_SECONDS)
 * @returns the URL of each image (in order) and their common expiry
 * @throws VidsnapApiError (400 naming a bad parameter, 404)
 */
export async function signedImageUrls(
  api: VidsnapClient,
  videoId: string,
  images?: { file: ImageFile; query?: ImageQuery }[],
  expiresInSeconds?: number,
): Promise<Schemas["ImageUrls"]> {
  const cleaned = images?.map((i) => ({
    file: i.file,
    ...(i.query ? { query: Object.fromEntries(Object.entries(i.query).filter((e): e is [string, string | number] => e[1] !== undefined)) } : {}),
  }));
  return unwrap(
    await api.POST("/v1/videos/{id}/image-urls", {
      params: { path: { id: videoId } },
      body: { ...(cleaned ? { images: cleaned } : {}), ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}) },
    }),
  );
}
