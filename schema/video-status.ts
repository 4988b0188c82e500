/**
 * Lifecycle of a video record, in the order a successful video passes through them.
 *
 * VIDEO_UPLOAD_PENDING → VIDEO_IMAGE_EXTRACTION_QUEUED → VIDEO_IMAGE_EXTRACTION_PROCESSING
 *   → VIDEO_IMAGE_EXTRACTION_SUCCESS | VIDEO_IMAGE_EXTRACTION_ERROR
 * A retry moves VIDEO_IMAGE_EXTRACTION_ERROR back to VIDEO_IMAGE_EXTRACTION_QUEUED with attempt + 1.
 */
import { z } from "zod";

export const VideoStatus = z.enum([
  "VIDEO_UPLOAD_PENDING",
  "VIDEO_IMAGE_EXTRACTION_QUEUED",
  "VIDEO_IMAGE_EXTRACTION_PROCESSING",
  "VIDEO_IMAGE_EXTRACTION_SUCCESS",
  "VIDEO_IMAGE_EXTRACTION_ERROR",
]);
export type VideoStatus = z.infer<typeof VideoStatus>;
