import {
  TranscodeEvent,
  TranscodeMessage,
  transcodeErrorMessage,
  transcodeProcessingMessage,
  transcodeProgressMessage,
  transcodeSuccessMessage,
} from "../../../../schema/messages/transcode.ts";
import { transcodeAttemptPrefix } from "../../../../schema/object-keys.ts";
import type { JobKind } from "../../runner/job-kind.ts";
import { runTranscode, transcodeMarkerExists, transcodeTimeoutSeconds, type TranscodeJob, type TranscodeResult } from "./job.ts";

const ref = (job: TranscodeJob) => ({ transcodeId: job.transcodeId, videoId: job.videoId, userId: job.userId, attempt: job.attempt });

/**
 * Transcoding: MSG_TRANSCODE in, renditions under the attempt's prefix of the videos bucket out
 * (./job.ts). Keyed by `${transcodeId}#${attempt}` (a video may have several transcodes running), limited
 * by TRANSCODE_TIMEOUT_SECONDS.
 */
export const transcodeKind: JobKind<TranscodeJob, TranscodeResult> = {
  type: "MSG_TRANSCODE",
  parse(envelope) {
    const parsed = TranscodeMessage.safeParse(envelope);
    if (parsed.success) return { job: parsed.data.payload };
    const detail = parsed.error.issues
      .slice(0, 10)
      .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
      .join("; ");
    return { detail: `The body is not a MSG_TRANSCODE envelope: ${detail}` };
  },
  jobKey: (job) => `${job.transcodeId}#${job.attempt}`,
  timeout: (config) => ({ seconds: transcodeTimeoutSeconds(config), setting: "TRANSCODE_TIMEOUT_SECONDS" }),
  alreadyStored: (job, { config, storage, signal }) =>
    transcodeMarkerExists(storage, config.videosBucket, transcodeAttemptPrefix(job.userId, job.videoId, job.transcodeId, job.attempt), signal),
  run: runTranscode,
  eventSchema: TranscodeEvent,
  processingEvent: (job) => transcodeProcessingMessage(ref(job)),
  progressEvent: (job, p) =>
    transcodeProgressMessage({ ...ref(job), fraction: p.fraction, speed: p.gauges.speed ?? null, etaSeconds: p.gauges.etaSeconds ?? null }),
  successEvent: (job, result) =>
    transcodeSuccessMessage({ ...ref(job), outputs: result.outputs, source: result.source, elapsedSeconds: result.elapsedSeconds, speed: result.speed }),
  errorEvent: (job, failure) => transcodeErrorMessage({ ...ref(job), ...failure }),
  startLogFields: (job) => ({ userId: job.userId, videoId: job.videoId, transcode: job.transcode }),
  successLogFields: (result) => ({
    outputs: result.outputs.map((o) => o.rendition),
    bytes: result.outputs.filter((o) => !o.rendition.startsWith("hls-")).reduce((s, o) => s + o.sizeBytes, 0),
    elapsedSeconds: result.elapsedSeconds,
    speed: result.speed,
    estimateBytes: result.estimateBytes,
    uploadMs: result.uploadMs,
  }),
};
