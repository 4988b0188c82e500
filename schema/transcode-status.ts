/**
 * Lifecycle of a transcode record (edge-api/src/lifecycle/transcode-job.ts), in the order a successful
 * transcode passes through them.
 *
 * TRANSCODE_PENDING (asked before the video's upload was completed: waits for `complete`)
 *   → TRANSCODE_QUEUED → TRANSCODE_PROCESSING → TRANSCODE_SUCCESS | TRANSCODE_ERROR
 * A transcode asked after `complete` starts TRANSCODE_QUEUED. A retry moves TRANSCODE_ERROR back to
 * TRANSCODE_QUEUED with attempt + 1.
 */
import { z } from "zod";

export const TranscodeStatus = z.enum([
  "TRANSCODE_PENDING",
  "TRANSCODE_QUEUED",
  "TRANSCODE_PROCESSING",
  "TRANSCODE_SUCCESS",
  "TRANSCODE_ERROR",
]);
export type TranscodeStatus = z.infer<typeof TranscodeStatus>;
