import {
  ExtractSnapshotEvent,
  ExtractSnapshotMessage,
  extractSnapshotErrorMessage,
  extractSnapshotProcessingMessage,
  extractSnapshotProgressMessage,
  extractSnapshotSuccessMessage,
} from "../../../../schema/messages/extract-snapshot.ts";
import type { JobKind } from "../../runner/job-kind.ts";
import { extractionOutputStored, runExtraction, type ExtractionJob, type ExtractionResult } from "./job.ts";

const ref = (job: ExtractionJob) => ({ videoId: job.videoId, userId: job.userId, attempt: job.attempt });

/** Image extraction: MSG_EXTRACT_SNAPSHOT in, an archive of images and a manifest out. */
export const extractKind: JobKind<ExtractionJob, ExtractionResult> = {
  type: "MSG_EXTRACT_SNAPSHOT",
  parse(envelope) {
    const parsed = ExtractSnapshotMessage.safeParse(envelope);
    if (parsed.success) return { job: parsed.data.payload };
    const detail = parsed.error.issues
      .slice(0, 10)
      .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
      .join("; ");
    return { detail: `The body is not a MSG_EXTRACT_SNAPSHOT envelope: ${detail}` };
  },
  alreadyStored: (job, { config, storage, signal }) => extractionOutputStored(job, storage, config.imagesBucket, signal),
  run: runExtraction,
  eventSchema: ExtractSnapshotEvent,
  processingEvent: (job) => extractSnapshotProcessingMessage(ref(job)),
  progressEvent: (job, p) =>
    extractSnapshotProgressMessage({ ...ref(job), fraction: p.fraction, imagesSoFar: p.counters.images ?? 0 }),
  successEvent: (job, result) =>
    extractSnapshotSuccessMessage({
      ...ref(job),
      archiveUri: result.archiveUri,
      manifestUri: result.manifestUri,
      imageCount: result.imageCount,
      zipSizeBytes: result.zipSizeBytes,
      source: result.source,
      ...(result.warnings ? { warnings: result.warnings } : {}),
    }),
  errorEvent: (job, failure) => extractSnapshotErrorMessage({ ...ref(job), ...failure }),
  startLogFields: (job) => ({ userId: job.userId, options: job.options }),
  successLogFields: (result) => ({
    imageCount: result.imageCount,
    zipSizeBytes: result.zipSizeBytes,
    extractMs: result.extractMs,
    ...(result.intervalStrategy ? { intervalStrategy: result.intervalStrategy } : {}),
    ...(result.warnings ? { warnings: result.warnings.length } : {}),
  }),
};
