/**
 * The request body limit of `/v1/*` and `/api/auth/*` (hono/body-limit). Every body the API reads is JSON;
 * video bytes go straight to storage with presigned URLs and never pass through the Worker, so
 * {@link MAX_REQUEST_BODY_BYTES} is generous, and a larger body is refused before anything parses it.
 */
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./context.ts";
import { problemResponse } from "./errors.ts";
import type { MiddlewareHandler } from "hono";

/** Largest request body accepted, bytes (64 KiB). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

/**
 * Answers 413 `payload-too-large` (problem+json) when the body is larger than {@link MAX_REQUEST_BODY_BYTES}:
 * at once from `content-length`, or after reading just past the limit of a chunked body.
 */
export const requestBodyLimit: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: MAX_REQUEST_BODY_BYTES,
  onError: (c) =>
    problemResponse("payload-too-large", `The request body must be at most ${MAX_REQUEST_BODY_BYTES} bytes.`, c.var.requestId),
});
