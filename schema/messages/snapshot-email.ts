/**
 * Message family MSG_SEND_SNAPSHOT_EXTRACTION_* (and MSG_SEND_VIDEO_IMPORT_ERROR): API → email service, one
 * per video attempt and outcome. The email service deduplicates on (videoId, attempt, outcome).
 */
import { z } from "zod";
import { ExtractionWarnings } from "../manifest.ts";
import { API_SERVICE, EMAIL_SERVICE, envelope, envelopeBuilder } from "./envelope.ts";

const Recipient = z.object({
  videoId: z.string().min(1),
  userId: z.string().min(1),
  attempt: z.number().int().min(1),
  to: z.email(),
  name: z.string().max(200).optional(),
  filename: z.string().max(255),
});

export const SendSnapshotExtractionSuccessMessage = envelope(
  "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS",
  [API_SERVICE],
  EMAIL_SERVICE,
  Recipient.extend({
    imageCount: z.number().int().min(0),
    zipSizeBytes: z.number().int().min(0),
    /** Presigned GET of the ZIP; valid until `downloadUrlExpiresAt` (R2 allows up to 7 days). */
    downloadUrl: z.url(),
    downloadUrlExpiresAt: z.string(),
    /** The file was damaged: what was met while decoding (listed in the email). */
    warnings: ExtractionWarnings.optional(),
  }),
);
export type SendSnapshotExtractionSuccessMessage = z.infer<typeof SendSnapshotExtractionSuccessMessage>;

export const SendSnapshotExtractionErrorMessage = envelope(
  "MSG_SEND_SNAPSHOT_EXTRACTION_ERROR",
  [API_SERVICE],
  EMAIL_SERVICE,
  Recipient.extend({
    errorMessage: z.string(),
    errorDescription: z.string(),
  }),
);
export type SendSnapshotExtractionErrorMessage = z.infer<typeof SendSnapshotExtractionErrorMessage>;

/**
 * The import of a video by URL failed (VIDEO_IMPORT_ERROR): its own type, so the email says "could not be
 * imported" rather than "no snapshots". Deduplicated like the extraction's error email, on (videoId, attempt,
 * "error"): the import and the extraction count attempts on the same video, so they never share one.
 */
export const SendVideoImportErrorMessage = envelope(
  "MSG_SEND_VIDEO_IMPORT_ERROR",
  [API_SERVICE],
  EMAIL_SERVICE,
  Recipient.extend({
    /** The URL the import read (shown in the email). */
    sourceUrl: z.string().max(2048),
    errorMessage: z.string(),
    errorDescription: z.string(),
  }),
);
export type SendVideoImportErrorMessage = z.infer<typeof SendVideoImportErrorMessage>;

/**
 * A generation (`POST /v1/generations`) ended VIDEO_GENERATION_ERROR: the generator reported a failure, could
 * not be reached, or did not call back in time. `attempt` is the video's, 0 (nothing was queued yet), so
 * its deduplication key (videoId, 0, "error") never meets an import's or an extraction's.
 */
export const SendVideoGenerationErrorMessage = envelope(
  "MSG_SEND_VIDEO_GENERATION_ERROR",
  [API_SERVICE],
  EMAIL_SERVICE,
  Recipient.extend({
    attempt: z.number().int().min(0),
    /** The generator's name (shown in the email). */
    generatorName: z.string().max(100),
    errorMessage: z.string(),
    /** The generator's own error or the last try's failure (untrusted text: escaped by the templates). */
    errorDescription: z.string(),
  }),
);
export type SendVideoGenerationErrorMessage = z.infer<typeof SendVideoGenerationErrorMessage>;

export const sendVideoGenerationErrorMessage = envelopeBuilder(SendVideoGenerationErrorMessage);
export const sendSnapshotExtractionSuccessMessage = envelopeBuilder(SendSnapshotExtractionSuccessMessage);
export const sendSnapshotExtractionErrorMessage = envelopeBuilder(SendSnapshotExtractionErrorMessage);
export const sendVideoImportErrorMessage = envelopeBuilder(SendVideoImportErrorMessage);

export const SnapshotEmailMessage = z.discriminatedUnion("type", [
  SendSnapshotExtractionSuccessMessage,
  SendSnapshotExtractionErrorMessage,
  SendVideoImportErrorMessage,
  SendVideoGenerationErrorMessage,
]);
export type SnapshotEmailMessage = z.infer<typeof SnapshotEmailMessage>;
