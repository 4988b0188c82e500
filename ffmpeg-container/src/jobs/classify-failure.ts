/**
 * Tells a transient failure of a job (the storage unavailable: retry later) from a permanent one (a bad or
 * replaced video), for every job kind that reads an uploaded source:
 * - a storage call that failed transiently (`storageError` of ../s3.ts) is retryable already;
 * - ffmpeg/ffprobe that could not read the source because of the storage ({@link STORAGE_UNREADABLE_MESSAGE},
 *   from their stderr: connection refused/reset, HTTP 5xx) is retryable;
 * - anything else (unreadable video, failed part-way, a limit) is checked with one more HEAD of the source
 *   (with If-Match when the job has an ETag): 412 → the source was replaced (permanent); a transient storage
 *   error → the storage is down now, so the failure is blamed on it (retryable: the attempt runs again
 *   later, and a truly bad video fails again then); otherwise the error stands.
 * Errors other than JobError (bugs) and aborts are returned as they are.
 */
import { sourceObjectKey } from "../../../schema/object-keys.ts";
import { STORAGE_UNREADABLE_MESSAGE } from "../ffmpeg/stderr.ts";
import { JobError } from "../runner/errors.ts";
import type { JobContext } from "../runner/job-kind.ts";
import { isPreconditionFailed, isTransientStorageError, SOURCE_REPLACED_MESSAGE, sourceReplacedError } from "../s3.ts";

/**
 * @param e what the job threw
 * @param source the job's source: its owner and video ids, and the ETag recorded at `complete` when the job has one
 * @returns the error to report: `e` itself, or a retryable / source-replaced JobError in its place
 */
export async function classifySourceFailure(
  e: unknown,
  source: { userId: string; videoId: string; sourceEtag?: string | undefined },
  ctx: JobContext,
): Promise<unknown> {
  const { config, storage, signal } = ctx;
  if (signal.aborted || !(e instanceof JobError) || e.retryable || e.message === SOURCE_REPLACED_MESSAGE) return e;
  if (e.message === STORAGE_UNREADABLE_MESSAGE) return new JobError(e.message, e.description, { retryable: true });
  try {
    await storage.objectSize(config.videosBucket, sourceObjectKey(source.userId, source.videoId), signal, source.sourceEtag);
  } catch (check) {
    if (signal.aborted) return e;
    if (source.sourceEtag && isPreconditionFailed(check)) return sourceReplacedError();
    if (isTransientStorageError(check)) {
      ctx.log.warn("job failed while the storage is unavailable: retryable", { error: e.message });
      return new JobError(STORAGE_UNREADABLE_MESSAGE, `${e.message} ${e.description}`.trim().slice(0, 1000), { retryable: true });
    }
  }
  return e;
}
