/**
 * Message family MSG_TRANSCODE*: the transcode job sent by the API to the processor and the events the
 * processor sends back (same `{type, sender, target, payload}` envelope and rules as MSG_EXTRACT_SNAPSHOT*:
 * every payload names the transcode, its video, its owner and the attempt ≥ 1, so an event of an older
 * attempt is recognised and ignored).
 */
import { z } from "zod";
import { SourceFacts } from "../manifest.ts";
import { TranscodeRequest } from "../transcode-options.ts";
import { API_SERVICE, envelope, envelopeBuilder, PROCESSOR_SERVICE } from "./envelope.ts";
import { JobErrorFields } from "./job-error.ts";
import { KeyId } from "./extract-snapshot.ts";

const TranscodeRef = z.object({
  transcodeId: KeyId,
  videoId: KeyId,
  userId: KeyId,
  attempt: z.number().int().min(1),
});

/** API → processor: make the renditions of `transcode` from the video's source object. */
export const TranscodeMessage = envelope(
  "MSG_TRANSCODE",
  [API_SERVICE],
  PROCESSOR_SERVICE,
  TranscodeRef.extend({ transcode: TranscodeRequest }),
);
export type TranscodeMessage = z.infer<typeof TranscodeMessage>;

/** Processor → API: the job started (first line), or is still alive (heartbeat after 30 s of silence). */
export const TranscodeProcessingMessage = envelope("MSG_TRANSCODE_PROCESSING", [PROCESSOR_SERVICE], API_SERVICE, TranscodeRef);
export type TranscodeProcessingMessage = z.infer<typeof TranscodeProcessingMessage>;

/**
 * Processor → API: the encode advanced (from ffmpeg's `-progress` output, at most every 2 s). `fraction`
 * is the share of the (trimmed) duration encoded, 0..1, never lower than the previous PROGRESS; `speed` the
 * encode speed in × real time (1 = as fast as playback); `etaSeconds` the estimated seconds left (null
 * until known). Renews the attempt's lease like PROCESSING.
 */
export const TranscodeProgressMessage = envelope(
  "MSG_TRANSCODE_PROGRESS",
  [PROCESSOR_SERVICE],
  API_SERVICE,
  TranscodeRef.extend({
    fraction: z.number().min(0).max(1),
    speed: z.number().min(0).nullable(),
    etaSeconds: z.number().min(0).nullable(),
  }),
);
export type TranscodeProgressMessage = z.infer<typeof TranscodeProgressMessage>;

/**
 * One stored output of a transcode. `rendition` is its stable name (schema/transcode-options.ts
 * `renditionName`: `mp4-720`, `webm-480`, `hls` for the master playlist, `hls-720` for a variant's media
 * playlist); `uri` the `s3://bucket/key` of the file (of the playlist for HLS; its segments lie beside it).
 * Facts are measured on the stored output (ffprobe), not copied from the request.
 */
export const TranscodeOutput = z.object({
  rendition: z.string().regex(/^[a-z0-9-]{1,32}$/),
  format: z.enum(["mp4", "webm", "hls"]),
  contentType: z.string(),
  uri: z.string().startsWith("s3://"),
  /** Bytes of the file; for HLS the playlist's and all its segments' (and init segment's) bytes. */
  sizeBytes: z.number().int().min(0),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  durationSeconds: z.number().min(0).nullable(),
  /** Average total bitrate, kbit/s (sizeBytes × 8 / duration / 1000). */
  bitrateKbps: z.number().min(0).nullable(),
  hasAudio: z.boolean(),
});
export type TranscodeOutput = z.infer<typeof TranscodeOutput>;

/** Processor → API: every output is stored. */
export const TranscodeSuccessMessage = envelope(
  "MSG_TRANSCODE_SUCCESS",
  [PROCESSOR_SERVICE],
  API_SERVICE,
  TranscodeRef.extend({
    outputs: z.array(TranscodeOutput).min(1),
    source: SourceFacts,
    /** Encode wall time, seconds, and its speed in × real time (trimmed duration / wall time). */
    elapsedSeconds: z.number().min(0),
    speed: z.number().min(0).nullable(),
  }),
);
export type TranscodeSuccessMessage = z.infer<typeof TranscodeSuccessMessage>;

/**
 * Processor → API: the job failed, nothing of this attempt is left stored. `retryable: true` marks a
 * transient fault (the storage unavailable, the processor shutting down): the API then re-queues the job with
 * backoff while its retry budget lasts (edge-api/src/lifecycle/record-event.ts). Sent by the API itself
 * (sender VIDEO_API_SERVICE) when it fails a job on the processor's behalf (unreachable, dead-lettered, leases).
 */
export const TranscodeErrorMessage = envelope(
  "MSG_TRANSCODE_ERROR",
  [PROCESSOR_SERVICE, API_SERVICE],
  API_SERVICE,
  TranscodeRef.extend(JobErrorFields.shape),
);
export type TranscodeErrorMessage = z.infer<typeof TranscodeErrorMessage>;

export const transcodeMessage = envelopeBuilder(TranscodeMessage);
export const transcodeProcessingMessage = envelopeBuilder(TranscodeProcessingMessage);
export const transcodeProgressMessage = envelopeBuilder(TranscodeProgressMessage);
export const transcodeSuccessMessage = envelopeBuilder(TranscodeSuccessMessage);
export const transcodeErrorMessage = envelopeBuilder(TranscodeErrorMessage);

/** Any event of a transcode job. */
export const TranscodeEvent = z.discriminatedUnion("type", [
  TranscodeProcessingMessage,
  TranscodeProgressMessage,
  TranscodeSuccessMessage,
  TranscodeErrorMessage,
]);
export type TranscodeEvent = z.infer<typeof TranscodeEvent>;
