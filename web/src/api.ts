/**
 * The dashboard's access to the API: the typed client of client/src on the page's own origin.
 *
 * Authentication (docs/architecture.md, "Dashboard"): better-auth's session **cookie** (HttpOnly,
 * SameSite=Lax, Secure on https), set by sign-up / sign-in and sent by the browser with every same-origin
 * request; edge-api's `/v1` guard accepts it like a bearer token. The page never keeps the token: script
 * injected into the page could act as the user while it runs, but could not copy a 7-day credential
 * elsewhere, as it could from web storage. Cross-site requests do not carry the SameSite=Lax cookie on
 * POST/DELETE, better-auth checks `Origin` on its own routes, and `/v1` mutations signed in with the cookie
 * need this origin (`Origin` or `Sec-Fetch-Site: same-origin`, both sent by the browser; edge-api/src/cross-site.ts).
 */
import {
  authRequest,
  createVidsnapClient,
  isVidsnapApiError,
  signInOrUp,
  unwrap,
  type User,
  type VideoList,
} from "../../client/src/index.ts";
import { UploadError } from "../../client/src/upload-protocol.ts";

export type { User };

/** Base URL of every call: none, so requests go to the page's own origin. */
const origin = "";

/** The typed client; API errors are VidsnapApiError (client/src/index.ts `unwrap`). */
export const api = createVidsnapClient({ baseUrl: origin, credentials: "same-origin" });

/** Called when a `/v1` call answers 401 (the session expired or was revoked): the app shows the sign-in page. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}
api.use({
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
  },
});

/** Last `ETag` and body of `GET /v1/videos`, so an unchanged list costs a 304 and no re-render. */
let listCache: { etag: string; list: VideoList } | undefined;

/**
 * `GET /v1/videos?limit=…` with `If-None-Match`.
 * @returns the list and whether it changed since the previous call
 * @throws VidsnapApiError
 */
export async function listVideos(limit: number, signal?: AbortSignal): Promise<{ list: VideoList; changed: boolean }> {
  const result = await api.GET("/v1/videos", {
    params: { query: { limit } },
    headers: listCache ? { "if-none-match": listCache.etag } : {},
    cache: "no-store",
    signal,
  });
  if (result.response.status === 304 && listCache) return { list: listCache.list, changed: false };
  const list = unwrap(result);
  const etag = result.response.headers.get("etag");
  listCache = etag ? { etag, list } : undefined;
  return { list, changed: true };
}

/** Forgets cached answers (after sign-out, or a change the page made itself). */
export function forgetCache(): void {
  listCache = undefined;
}

/** `GET /api/auth/get-session`: the signed-in user, or null. */
export async function currentUser(): Promise<User | null> {
  return (await authRequest<{ user: User } | null>(origin, "GET", "/api/auth/get-session")).data?.user ?? null;
}

/**
 * Signs up (name, email, password: 10+ characters, not a common one) and then in, or just in; better-auth
 * sets the session cookie on sign-in.
 * @throws VidsnapApiError with better-auth's message (e.g. "Invalid email or password")
 */
export async function authenticate(mode: "sign-in" | "sign-up", fields: { email: string; password: string; name?: string | undefined }): Promise<User> {
  const { user } = await signInOrUp(origin, mode, fields);
  forgetCache();
  return user;
}

/** Ends the session (`POST /api/auth/sign-out`: better-auth deletes it and clears the cookie). */
export async function signOut(): Promise<void> {
  await authRequest(origin, "POST", "/api/auth/sign-out", {});
  forgetCache();
}

/** One sentence for the user about a failed call or upload. */
export function describeError(err: unknown): string {
  if (err instanceof UploadError) {
    if (isVidsnapApiError(err.cause)) return describeError(err.cause);
    if (err.cause instanceof TypeError) return "The upload was interrupted (network error). Check your connection and try again.";
    if (err.status === 403 && /expired/i.test(err.message)) return "The upload link expired; start the upload again.";
    return err.message;
  }
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
