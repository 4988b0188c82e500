/**
 * Extraction options a client chooses when creating a video (`POST /v1/videos` `options`), carried
 * unchanged in MSG_EXTRACT_SNAPSHOT to the processor.
 *
 * - `mode: "keyframes"` (default): one image at every keyframe (decoded with `-skip_frame nokey`).
 * - `mode: "interval"`: one image at or after each of 0, N, 2N… seconds, N = `intervalSeconds`
 *   (default 10, 0.1 to 3600 seconds).
 */
import { z } from "@hono/zod-openapi";

export const KeyframeOptions = z.object({
  mode: z.literal("keyframes"),
});

export const IntervalOptions = z.object({
  mode: z.literal("interval"),
  intervalSeconds: z.number().min(0.1).max(3600).default(10).describe("Seconds between two images."),
});

export const ExtractionOptions = z
  .discriminatedUnion("mode", [KeyframeOptions, IntervalOptions])
  .openapi("ExtractionOptions", {
    example: { mode: "interval", intervalSeconds: 10 },
  });
export type ExtractionOptions = z.infer<typeof ExtractionOptions>;

/** Options used when a client sends none. */
export const DEFAULT_EXTRACTION_OPTIONS: ExtractionOptions = { mode: "keyframes" };
