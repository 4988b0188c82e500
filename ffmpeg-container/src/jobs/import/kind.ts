import {
  ImportVideoEvent,
  ImportVideoMessage,
  importVideoErrorMessage,
  importVideoProcessingMessage,
  importVideoProgressMessage,
  importVideoSuccessMessage,
} from "../../../../schema/messages/import.ts";
import type { JobKind } from "../../runner/job-kind.ts";
import { runImport, type ImportJob, type ImportResult } from "./job.ts";

const ref = (job: ImportJob) => ({ videoId: job.videoId, userId: job.userId, attempt: job.attempt });

/**
 * Import by URL: MSG_IMPORT_VIDEO in, the video's source object out (./job.ts). Keyed by
 * `${videoId}#${attempt}` (the default: an import and its video's extraction never run the same attempt), so
 * deleting the video cancels it. Limited by JOB_TIMEOUT_SECONDS like the extraction.
 */
export const importKind: JobKind<ImportJob, ImportResult> = {
  type: "MSG_IMPORT_VIDEO",
  parse(envelope) {
    const parsed = ImportVideoMessage.safeParse(envelope);
    if (parsed.success) return { job: parsed.data.payload };
    const detail = parsed.error.issues
      .slice(0, 10)
      .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
      .join("; ");
    return { detail: `The body is not a MSG_IMPORT_VIDEO envelope: ${detail}` };
  },
  run: (job, ctx) => runImport(job, ctx),
  eventSchema: ImportVideoEvent,
  processingEvent: (job) => importVideoProcessingMessage(ref(job)),
  progressEvent: (job, p) => {
    const totalBytes = p.gauges.totalBytes ?? null;
    return importVideoProgressMessage({ ...ref(job), importedBytes: p.counters.importedBytes ?? 0, totalBytes, fraction: totalBytes ? p.fraction : null });
  },
  successEvent: (job, result) =>
    importVideoSuccessMessage({
      ...ref(job),
      sourceUri: result.sourceUri,
      sizeBytes: result.sizeBytes,
      contentType: result.contentType,
      ...(result.etag ? { etag: result.etag } : {}),
    }),
  errorEvent: (job, failure) => importVideoErrorMessage({ ...ref(job), ...failure }),
  // The URL may carry a credential of the remote server in its query: only its host is logged.
  startLogFields: (job) => ({ userId: job.userId, host: new URL(job.url).host, maxBytes: job.maxBytes }),
  successLogFields: (result) => ({ sizeBytes: result.sizeBytes, reused: result.reused, redirects: result.redirects, elapsedMs: result.elapsedMs }),
};
