/**
 * Message family MSG_SEND_TRANSCODE_*: API → email service, one per transcode attempt and outcome. The
 * email service deduplicates on (videoId, transcodeId, attempt, outcome), like the extraction's emails
 * (./snapshot-email.ts).
 */
import { z } from "zod";
import { API_SERVICE, EMAIL_SERVICE, envelope, envelopeBuilder } from "./envelope.ts";

const Recipient = z.object({
  transcodeId: z.string().min(1),
  videoId: z.string().min(1),
  userId: z.string().min(1),
  attempt: z.number().int().min(1),
  to: z.email(),
  name: z.string().max(200).optional(),
  filename: z.string().max(255),
});

/** One downloadable file of a transcode (MP4 or WebM rendition), with its presigned GET URL. */
export const TranscodeEmailFile = z.object({
  /** Stable rendition name, e.g. `mp4-720` (schema/transcode-options.ts `renditionName`). */
  rendition: z.string().min(1).max(32),
  contentType: z.string().max(100),
  sizeBytes: z.number().int().min(0),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  durationSeconds: z.number().min(0).nullable(),
  /** Presigned GET of the file, valid until `linksExpireAt`. */
  url: z.url(),
});
export type TranscodeEmailFile = z.infer<typeof TranscodeEmailFile>;

export const SendTranscodeSuccessMessage = envelope(
  "MSG_SEND_TRANSCODE_SUCCESS",
  [API_SERVICE],
  EMAIL_SERVICE,
  Recipient.extend({
    files: z.array(TranscodeEmailFile).max(16),
    /** Tokenized HLS master playlist URL (plays without signing in) when an `hls` rendition was made. */
    playbackUrl: z.url().nullable(),
    /** When the links stop working (EMAIL_LINK_TTL_SECONDS after the email was queued, ≤ 7 days). */
    linksExpireAt: z.string(),
  }),
);
export type SendTranscodeSuccessMessage = z.infer<typeof SendTranscodeSuccessMessage>;

export const SendTranscodeErrorMessage = envelope(
  "MSG_SEND_TRANSCODE_ERROR",
  [API_SERVICE],
  EMAIL_SERVICE,
  Recipient.extend({
    errorMessage: z.string(),
    errorDescription: z.string(),
  }),
);
export type SendTranscodeErrorMessage = z.infer<typeof SendTranscodeErrorMessage>;

export const sendTranscodeSuccessMessage = envelopeBuilder(SendTranscodeSuccessMessage);
export const sendTranscodeErrorMessage = envelopeBuilder(SendTranscodeErrorMessage);

export const TranscodeEmailMessage = z.discriminatedUnion("type", [SendTranscodeSuccessMessage, SendTranscodeErrorMessage]);
export type TranscodeEmailMessage = z.infer<typeof TranscodeEmailMessage>;
