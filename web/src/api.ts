/**
 * The dashboard's access to the API, on the page's own origin.
 *
 * Authentication (docs/architecture.md, "Dashboard"): better-auth's session **cookie** (HttpOnly,
 * SameSite=Lax, Secure on https), set by `POST /api/auth/sign-up/email` / `sign-in/email` and sent by the
 * browser with every same-origin request; edge-api's `/v1` guard accepts it like a bearer token
 * (edge-api/src/auth.ts `requireUser`). The page never holds the token: script injected into the page could
 * act as the user while it runs, but could not copy a 7-day credential elsewhere, as it could from
 * localStorage/sessionStorage. Cross-site requests do not carry the SameSite=Lax cookie on POST/DELETE,
 * and better-auth checks `Origin` on its own routes.
 *
 * Errors are {@link VidsnapApiError} (client/src/index.ts: problem+json or better-auth's `{code, message}`),
 * or a TypeError when the network failed; {@link describeError} turns either into one human sentence.
 */
import type { Video, VideoList } from "../../schema/api.ts";
import { isVidsnapApiError, toApiError } from "../../client/src/index.ts";

/** The signed-in user as better-auth reports it. */
export interface User {
  id: string;
  email: string;
  name: string;
}

/** Called when an API call answers 401 (the session expired or was revoked): the app shows the sign-in page. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/**
 * One JSON request to the API.
 * @param method HTTP method
 * @param path e.g. `/v1/videos` (same origin)
 * @param body JSON body, omitted = none
 * @returns the parsed JSON answer (undefined for 204)
 * @throws VidsnapApiError on a non-2xx answer (after calling the unauthorized handler on a /v1 401);
 *   TypeError on network failure; the signal's reason when aborted
 */
export async function apiJson<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  if (!res.ok) {
    if (res.status === 401 && path.startsWith("/v1/")) onUnauthorized();
    throw toApiError(res, text || undefined);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Last `ETag` and body of `GET /v1/videos`, so an unchanged list costs a 304 and no re-render. */
let listCache: { etag: string; list: VideoList } | undefined;

/**
 * `GET /v1/videos?limit=…` with `If-None-Match`.
 * @returns the list and whether it changed since the previous call
 */
export async function listVideos(limit: number, signal?: AbortSignal): Promise<{ list: VideoList; changed: boolean }> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (listCache) headers["if-none-match"] = listCache.etag;
  const res = await fetch(`/v1/videos?limit=${limit}`, { credentials: "same-origin", headers, signal, cache: "no-store" });
  if (res.status === 304 && listCache) return { list: listCache.list, changed: false };
  const text = await res.text();
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    throw toApiError(res, text || undefined);
  }
  const list = JSON.parse(text) as VideoList;
  const etag = res.headers.get("etag");
  listCache = etag ? { etag, list } : undefined;
  return { list, changed: true };
}

/** `GET /v1/videos/{id}`. @throws VidsnapApiError (404 when deleted or another user's) */
export async function getVideo(id: string, signal?: AbortSignal): Promise<Video> {
  return (await apiJson<{ video: Video }>("GET", `/v1/videos/${encodeURIComponent(id)}`, undefined, signal)).video;
}

/** `POST /v1/videos/{id}/retry`: a failed video gets a new attempt. @throws VidsnapApiError (409 when not failed) */
export async function retryVideo(id: string): Promise<Video> {
  return (await apiJson<{ video: Video }>("POST", `/v1/videos/${encodeURIComponent(id)}/retry`)).video;
}

/** `DELETE /v1/videos/{id}`: the video, its upload and its images. */
export async function deleteVideo(id: string): Promise<void> {
  await apiJson<void>("DELETE", `/v1/videos/${encodeURIComponent(id)}`);
  listCache = undefined;
}

/** Forgets cached answers (after sign-out, or a change the page made itself). */
export function forgetCache(): void {
  listCache = undefined;
}

/** `GET /api/auth/get-session`: the signed-in user, or null. */
export async function currentUser(): Promise<User | null> {
  const res = await apiJson<{ user: User } | null>("GET", "/api/auth/get-session");
  return res?.user ?? null;
}

/**
 * Signs up (name, email, password: 10+ characters, not a common one) or in; better-auth sets the session
 * cookie on success.
 * @throws VidsnapApiError with better-auth's message (e.g. "Invalid email or password", "User already exists")
 */
export async function authenticate(mode: "sign-in" | "sign-up", fields: { email: string; password: string; name?: string }): Promise<User> {
  const body = mode === "sign-up" ? { name: fields.name || fields.email.split("@")[0], email: fields.email, password: fields.password } : { email: fields.email, password: fields.password };
  const res = await apiJson<{ user: User }>("POST", `/api/auth/${mode}/email`, body);
  forgetCache();
  return res.user;
}

/** Ends the session (`POST /api/auth/sign-out`: better-auth deletes it and clears the cookie). */
export async function signOut(): Promise<void> {
  await apiJson<unknown>("POST", "/api/auth/sign-out", {});
  forgetCache();
}

/** One sentence for the user about a failed call. */
export function describeError(err: unknown): string {
  if (isVidsnapApiError(err)) {
    if (err.status === 429) return "Too many requests right now; wait a moment and try again.";
    if (err.status >= 500) return `The server could not do this (${err.detail || err.title}).${err.requestId ? ` Request id: ${err.requestId}.` : ""}`;
    // Validation problems name each offending field (e.g. `options.maxWidth: Too big: expected number to be <=16384`).
    const fields = err.problem?.errors?.map((e) => `${e.path}: ${e.message}`) ?? [];
    const text = err.detail || err.title;
    return fields.length ? `${text} ${fields.join("; ")}` : text;
  }
  if (err instanceof DOMException && err.name === "AbortError") return "Cancelled.";
  if (err instanceof TypeError) return "Could not reach the server. Check your connection and try again.";
  return err instanceof Error ? err.message : String(err);
}
