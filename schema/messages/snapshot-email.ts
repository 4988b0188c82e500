/**
 * Message family MSG_SEND_SNAPSHOT_EXTRACTION_*: API → email service, one per video attempt and
 * outcome. The email service deduplicates on (videoId, attempt, outcome).
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

export const sendSnapshotExtractionSuccessMessage = envelopeBuilder(SendSnapshotExtractionSuccessMessage);
export const sendSnapshotExtractionErrorMessage = envelopeBuilder(SendSnapshotExtractionErrorMessage);

export const SnapshotEmailMessage = z.discriminatedUnion("type", [
  SendSnapshotExtractionSuccessMessage,
  SendSnapshotExtractionErrorMessage,
]);
export type SnapshotEmailMessage = z.infer<typeof SnapshotEmailMessage>;
