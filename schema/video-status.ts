/**
 * Lifecycle of a video record, in the order a successful video passes through them.
 *
 * VIDEO_UPLOAD_PENDING → VIDEO_IMAGE_EXTRACTION_QUEUED → VIDEO_IMAGE_EXTRACTION_PROCESSING
 *   → VIDEO_IMAGE_EXTRACTION_SUCCESS | VIDEO_IMAGE_EXTRACTION_ERROR
 * A retry moves VIDEO_IMAGE_EXTRACTION_ERROR back to VIDEO_IMAGE_EXTRACTION_QUEUED with attempt + 1.
 *
 * A video imported by URL (`source: {url}`) starts VIDEO_IMPORT_QUEUED → VIDEO_IMPORTING, then, with its
 * source stored, VIDEO_UPLOAD_PENDING for the moment the extraction is queued as after `complete`;
 * a failed import ends VIDEO_IMPORT_ERROR (a retry moves it back to VIDEO_IMPORT_QUEUED).
 *
 * A generated video (`POST /v1/generations`) starts VIDEO_GENERATION_PENDING while an external generator
 * makes it; its `ready` callback turns it into an import (VIDEO_IMPORT_QUEUED, from the generator's URL); a
 * `failed` callback, an unreachable generator or no callback in time end it VIDEO_GENERATION_ERROR (final:
 * there is nothing to retry from, the user asks a new generation).
 */
import { z } from "zod";

export const VideoStatus = z.enum([
  "VIDEO_UPLOAD_PENDING",
  "VIDEO_IMAGE_EXTRACTION_QUEUED",
  "VIDEO_IMAGE_EXTRACTION_PROCESSING",
  "VIDEO_IMAGE_EXTRACTION_SUCCESS",
  "VIDEO_IMAGE_EXTRACTION_ERROR",
  "VIDEO_IMPORT_QUEUED",
  "VIDEO_IMPORTING",
  "VIDEO_IMPORT_ERROR",
  "VIDEO_GENERATION_PENDING",
  "VIDEO_GENERATION_ERROR",
]);
export type VideoStatus = z.infer<typeof VideoStatus>;
