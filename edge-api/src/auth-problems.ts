/**
 * better-auth's refusals on `/api/auth/*` as the API's problem details: better-auth answers errors as
 * `{code, message}` JSON (or plain text, e.g. a disabled path's "Not Found"); every other error of the API is
 * `application/problem+json`, so {@link asAuthProblem} re-emits each non-2xx answer of its handler as one:
 * the kind by status ({@link AUTH_PROBLEM_KINDS}), the status itself unchanged (e.g. 422 stays 422),
 * better-auth's `message` as `detail` (5xx: a generic detail) and its `code` as the extension member `code`
 * (e.g. `INVALID_EMAIL_OR_PASSWORD`, `INVALID_ORIGIN`), so clients can still tell refusals apart. The answer's
 * other headers (`set-cookie`, `retry-after`…) are kept.
 */
import type { Context } from "hono";
import type { AppEnv } from "./context.ts";
import { problemResponse, type ProblemKind } from "./errors.ts";

/** Problem kind of a better-auth refusal, by HTTP status; others: `bad-request` (4xx), `internal` (5xx). */
export const AUTH_PROBLEM_KINDS: Partial<Record<number, ProblemKind>> = {
  400: "validation",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  409: "conflict",
  413: "payload-too-large",
  415: "unsupported-media-type",
  422: "validation",
  429: "rate-limited",
};

/** Longest better-auth message echoed as `detail`, characters. */
const MAX_DETAIL_LENGTH = 300;

/** better-auth's error codes are upper-case identifiers; anything else is not echoed. */
const CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** `{code, message}` of a better-auth error body, when it is one. */
async function readError(res: Response): Promise<{ code?: string; message?: string }> {
  if (!/json/i.test(res.headers.get("content-type") ?? "")) {
    await res.body?.cancel();
    return {};
  }
  try {
    const body = (await res.json()) as { code?: unknown; message?: unknown } | null;
    return {
      ...(typeof body?.code === "string" && CODE_PATTERN.test(body.code) ? { code: body.code } : {}),
      ...(typeof body?.message === "string" && body.message.trim() ? { message: body.message.trim().slice(0, MAX_DETAIL_LENGTH) } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * The answer of better-auth's handler as the client gets it: 1xx-3xx unchanged, 4xx/5xx as problem+json.
 * @param c the `/api/auth/*` request (request id, method and path, logger)
 * @param res better-auth's answer
 */
export async function asAuthProblem(c: Context<AppEnv>, res: Response): Promise<Response> {
  if (res.status < 400) return res;
  const { code, message } = await readError(res);
  const kind = AUTH_PROBLEM_KINDS[res.status] ?? (res.status >= 500 ? "internal" : "bad-request");
  let detail: string;
  if (res.status >= 500) {
    c.var.log.error("better-auth failed", { status: res.status, ...(code ? { code } : {}) });
    detail = "An unexpected error occurred; quote the request id when reporting it.";
  } else if (message) {
    detail = message;
  } else {
    detail = res.status === 404 ? `No route ${c.req.method} ${c.req.path}.` : "The request was refused.";
  }
  const problem = problemResponse(kind, detail, c.var.requestId, { status: res.status, ...(code ? { extensions: { code } } : {}) });
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  problem.headers.forEach((value, name) => headers.set(name, value));
  return new Response(problem.body, { status: res.status, headers });
}
