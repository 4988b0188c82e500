/**
 * `manifest.json`: written by the processor into every archive (and beside it as its own object),
 * read by the API for `GET /v1/videos/{id}/images`.
 */
import { z } from "@hono/zod-openapi";
import { ExtractionOptions } from "./extraction-options.ts";

export const ManifestImage = z
  .object({
    index: z.number().int().min(0).describe("0-based order in the archive."),
    fileName: z.string().describe("Entry name inside the ZIP, e.g. `images/000001_t0000012.500.jpg`."),
    timestampSeconds: z.number().min(0).describe("Presentation time of the frame, seconds from the start."),
    bytes: z.number().int().min(0).describe("Size of the image file in bytes."),
    width: z.number().int().positive().optional(),
    height: z.number().int().positive().optional(),
  })
  .openapi("Image");
export type ManifestImage = z.infer<typeof ManifestImage>;

export const SourceFacts = z.object({
  formatName: z.string().describe("ffprobe format_name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`."),
  durationSeconds: z.number().min(0).nullable(),
  sizeBytes: z.number().int().min(0).nullable(),
  videoCodec: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frameRate: z.number().nullable().describe("Average frames per second, when known."),
  rotationDegrees: z.number().default(0),
});
export type SourceFacts = z.infer<typeof SourceFacts>;

export const Manifest = z.object({
  version: z.literal(1),
  videoId: z.string(),
  attempt: z.number().int().min(1),
  createdAt: z.string().describe("ISO 8601 time the archive was finished."),
  options: ExtractionOptions,
  source: SourceFacts,
  imageFormat: z.literal("jpeg"),
  images: z.array(ManifestImage),
});
export type Manifest = z.infer<typeof Manifest>;
