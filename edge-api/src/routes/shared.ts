/**
 * Pieces shared by the route definitions: the app type, the problem responses of the OpenAPI document,
 * and the security requirements (`/v1/*` and public routes).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Problem } from "../../../schema/api.ts";
import type { AppEnv } from "../context.ts";

export type App = OpenAPIHono<AppEnv>;

/** Bearer token from `/api/auth/sign-in/email` (`set-auth-token` header). */
export const BEARER = [{ bearerAuth: [] }];

/** No credentials: an explicit empty requirement, so a public route is told apart from a forgotten one. */
export const PUBLIC: [] = [];

const DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request (`validation`).",
  401: "Missing or invalid bearer token (`unauthorized`).",
  403: "Not allowed with this kind of credential (`forbidden`), e.g. an API key managing API keys; or a mutation signed in with the session cookie from an untrusted origin (`cross-site-request`).",
  404: "No such video for this user (`not-found`).",
  409: "The video is not in a state that allows this.",
  413: "The declared size exceeds MAX_UPLOAD_BYTES (`file-too-large`).",
  415: "Extension or MIME type not in the allow-list (`unsupported-video-type`).",
  429: "Too many requests (`rate-limited`); retry after the `Retry-After` seconds.",
  500: "Internal error.",
  502: "The object storage did not answer (`bad-gateway`).",
  503: "The job queue is unavailable (`service-unavailable`).",
};

/** OpenAPI responses for problem statuses, each `application/problem+json` of {@link Problem}. */
export function problems<const S extends readonly number[]>(...statuses: S) {
  const out: Record<number, { description: string; content: { "application/problem+json": { schema: typeof Problem } } }> = {};
  for (const s of statuses) {
    out[s] = { description: DESCRIPTIONS[s] ?? "Problem.", content: { "application/problem+json": { schema: Problem } } };
  }
  return out as { [K in S[number]]: { description: string; content: { "application/problem+json": { schema: typeof Problem } } } };
}
