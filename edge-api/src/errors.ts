/**
 * The one error type of the API: {@link ProblemError}, rendered by `app.onError` as RFC 9457 problem
 * details (`application/problem+json`, schema `Problem` in schema/api.ts). Each kind has a stable
 * `type` URI (schema/problem.ts), a fixed title and a default status.
 */
import type { Problem } from "../../schema/api.ts";
import { problemType } from "../../schema/problem.ts";

/** Every problem kind the API answers with: default HTTP status and title. */
export const PROBLEM_KINDS = {
  validation: { status: 400, title: "Invalid request" },
  "bad-request": { status: 400, title: "Bad request" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  // A `/v1` mutation signed in with the session cookie from an untrusted origin (./cross-site.ts).
  "cross-site-request": { status: 403, title: "Cross-site request refused" },
  // An HLS playlist URL whose `token` is malformed, altered, expired or made for another transcode or attempt.
  "playback-token-invalid": { status: 403, title: "Playback token refused" },
  // An image URL whose `token` is malformed, altered, expired or made for another image or video.
  "image-token-invalid": { status: 403, title: "Image token refused" },
  "not-found": { status: 404, title: "Not found" },
  conflict: { status: 409, title: "Conflict" },
  "not-ready": { status: 409, title: "Images not ready" },
  "upload-incomplete": { status: 409, title: "Upload incomplete" },
  "upload-size-mismatch": { status: 409, title: "Uploaded size differs" },
  "upload-parts-invalid": { status: 409, title: "Upload parts refused" },
  "file-too-large": { status: 413, title: "File too large" },
  // The HTTP request body itself (./body-limit.ts), not the declared size of a video (`file-too-large`).
  "payload-too-large": { status: 413, title: "Request body too large" },
  "unsupported-video-type": { status: 415, title: "Unsupported video type" },
  "unsupported-media-type": { status: 415, title: "Unsupported media type" },
  // The processor could not render an image of the video (damaged, audio only, replaced): images on demand.
  "video-unrenderable": { status: 422, title: "Video cannot be rendered" },
  "rate-limited": { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal error" },
  "server-misconfigured": { status: 500, title: "Server misconfigured" },
  "bad-gateway": { status: 502, title: "Storage error" },
  "service-unavailable": { status: 503, title: "Service unavailable" },
  "render-timeout": { status: 504, title: "Render timed out" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEM_KINDS;
export type FieldIssue = NonNullable<Problem["errors"]>[number];

/**
 * An expected failure with a problem kind and a human `detail`. Throw it anywhere in a request;
 * `app.onError` answers it. Never put secrets or stack traces in `detail`.
 */
export class ProblemError extends Error {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly detail: string;
  readonly errors: FieldIssue[] | undefined;
  readonly headers: Record<string, string> | undefined;

  /**
   * @param kind problem kind (sets `type`, `title` and the default status)
   * @param detail human explanation of this occurrence
   * @param opts.status overrides the kind's status
   * @param opts.errors field issues (validation problems)
   * @param opts.headers extra response headers (e.g. `retry-after`)
   * @param opts.cause the underlying error, logged, never answered
   */
  constructor(
    kind: ProblemKind,
    detail: string,
    opts: { status?: number; errors?: FieldIssue[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "ProblemError";
    this.kind = kind;
    this.status = opts.status ?? PROBLEM_KINDS[kind].status;
    this.detail = detail;
    this.errors = opts.errors;
    this.headers = opts.headers;
  }
}

/**
 * Builds the problem+json response of a kind.
 * @param opts.extensions extension members (RFC 9457 §3.2), e.g. better-auth's `code` on `/api/auth/*`
 * @returns a Response with `content-type: application/problem+json` and `x-request-id`
 */
export function problemResponse(
  kind: ProblemKind,
  detail: string,
  requestId: string,
  opts: { status?: number; errors?: FieldIssue[]; headers?: Record<string, string>; extensions?: Record<string, string> } = {},
): Response {
  const status = opts.status ?? PROBLEM_KINDS[kind].status;
  const body: Problem & Record<string, unknown> = {
    type: problemType(kind),
    title: PROBLEM_KINDS[kind].title,
    status,
    detail,
    requestId,
    ...(opts.errors ? { errors: opts.errors } : {}),
  };
  // Extensions never replace a standard member.
  for (const [name, value] of Object.entries(opts.extensions ?? {})) if (!(name in body)) body[name] = value;
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...opts.headers, "content-type": "application/problem+json", "x-request-id": requestId },
  });
}

/** A zod issue as far as {@link fieldIssues} reads it (`errors`: the issues of each option of a union). */
interface ZodIssueLike {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  errors?: readonly (readonly ZodIssueLike[])[];
}

/**
 * Turns zod issues into `{path, message}` pairs (no received values echoed). A body that matches no option of
 * a union (`POST /v1/videos`: an upload or an import) is reported with the issues of the option it came
 * closest to (the fewest issues), so a bad field keeps its path instead of one "Invalid input" at the root.
 */
export function fieldIssues(issues: readonly ZodIssueLike[]): FieldIssue[] {
  return issues.flatMap((i) => {
    if (i.code === "invalid_union" && i.errors && i.errors.length > 0) {
      const closest = [...i.errors].sort((a, b) => a.length - b.length)[0]!;
      if (closest.length > 0) return fieldIssues(closest.map((c) => ({ ...c, path: [...i.path, ...c.path] })));
    }
    return [{ path: i.path.map(String).join("."), message: i.message }];
  });
}
