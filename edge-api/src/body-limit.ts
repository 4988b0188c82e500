/**
 * The request body limit of `/v1/*` and `/api/auth/*` (hono/body-limit). Every body the API reads is JSON;
 * video bytes go straight to storage with presigned URLs and never pass through the Worker, so
 * {@link MAX_REQUEST_BODY_BYTES} is generous, and a larger body is refused before anything parses it.
 */
import { bodyLimit } from "hono/body-limit";
import { MAX_GENERATION_INPUT_BYTES } from "../../schema/api.ts";
import type { AppEnv } from "./context.ts";
import { problemResponse } from "./errors.ts";
import type { MiddlewareHandler } from "hono";

/** Largest request body accepted, bytes (64 KiB). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

/**
 * A middleware answering 413 `payload-too-large` (problem+json) when the body is larger than `maxSize`: at
 * once from `content-length`, or after reading just past the limit of a chunked body.
 * @param maxSize bytes
 */
export function bodyLimitOf(maxSize: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: (c) => problemResponse("payload-too-large", `The request body must be at most ${maxSize} bytes.`, c.var.requestId),
  });
}

/** The limit of every `/v1/*` and `/api/auth/*` body ({@link MAX_REQUEST_BODY_BYTES}) but a generation's. */
export const requestBodyLimit: MiddlewareHandler<AppEnv> = bodyLimitOf(MAX_REQUEST_BODY_BYTES);

/**
 * Largest `POST /v1/generations` body, bytes: its `input` alone may take 64 KB (MAX_GENERATION_INPUT_BYTES,
 * schema/api.ts), answered 400 by the schema beyond that, plus 16 KiB for the other fields.
 */
export const MAX_GENERATION_BODY_BYTES = MAX_GENERATION_INPUT_BYTES + 16 * 1024;

/** The limit of `POST /v1/generations` ({@link MAX_GENERATION_BODY_BYTES}). */
export const generationBodyLimit: MiddlewareHandler<AppEnv> = bodyLimitOf(MAX_GENERATION_BODY_BYTES);
