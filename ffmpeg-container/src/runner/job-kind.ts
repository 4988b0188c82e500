import type { SourceCache } from "../sources/source-cache.ts";
import type { z } from "zod";
import type { Logger, LogFields } from "../../../runtime/log.ts";
import type { JobFailure } from "../../../schema/messages/job-error.ts";
import type { ProcessorConfig } from "../config.ts";
import type { FfmpegBinaries } from "../ffmpeg/binaries.ts";
import type { Storage } from "../s3.ts";

/**
 * What every job names: the video and the attempt (the runner's job id is `${videoId}#${attempt}` unless
 * the kind gives its own {@link JobKind.jobKey}).
 */
export interface JobRef {
  videoId: string;
  attempt: number;
}

/**
 * Progress a job reports: `fraction` of the work done (0..1) and kind-specific counters (e.g. `images`),
 * which the runner never lets go down; and gauges, measures that may go either way (e.g. a transcode's
 * `speed` and `etaSeconds`, null while unknown), of which the latest value is sent.
 */
export interface JobProgress {
  fraction: number;
  counters: Record<string, number>;
  gauges: Record<string, number | null>;
}

/** What the runner gives a running job. */
export interface JobContext {
  /** The job's key ({@link JobKind.jobKey}, default `${videoId}#${attempt}`). */
  jobId: string;
  /** The job's own empty folder, removed by the runner when the job ends (whatever happens). */
  workDir: string;
  /** Aborted on timeout, client disconnect or shutdown; `signal.reason` is what the job should throw. */
  signal: AbortSignal;
  /** Bound to `jobId`. */
  log: Logger;
  /**
   * Reports progress; the runner throttles it into PROGRESS events (at most one per progress interval).
   * `fraction` and `counters` never go down; `gauges` replace the previous values.
   */
  progress(fraction: number, counters?: Record<string, number>, gauges?: Record<string, number | null>): void;
  config: ProcessorConfig;
  storage: Storage;
  /** ffmpeg/ffprobe, resolved once per processor. */
  bins: FfmpegBinaries;
  /** The processor's local copies of sources (../sources/source-cache.ts); absent = read over HTTP. */
  sources?: SourceCache | undefined;
  /**
   * The runner's {@link JobKind.alreadyStored} check, made beside the job's start: resolves true when it found
   * none of this job's outputs stored (the same check by the job would learn nothing more; a check that must
   * hold later, e.g. before deleting keys, is still the job's to make), false when it found one (the runner
   * then aborts the job) or could not tell (a storage error). A job writes nothing before it settled. Absent
   * when the kind has no such check: the job checks itself.
   */
  outputsAbsent?: Promise<boolean> | undefined;
}

/** `errorMessage`, `errorDescription` (redacted) and `retryable` (transient faults only) of an ERROR event. */
export type { JobFailure };

/**
 * One kind of job the processor runs. The runner owns HTTP, slots, the event stream, heartbeat, timeout,
 * cancellation and the work folder; the kind parses its request envelope, runs, and builds its events
 * (with the schema/messages constructors).
 * @typeParam J the job (the request payload); @typeParam R what a successful run returns
 */
export interface JobKind<J extends JobRef = JobRef, R = unknown> {
  /** Message type of the request envelope this kind accepts, e.g. `MSG_EXTRACT_SNAPSHOT`. */
  type: string;
  /** Validates a request body. @returns the job, or a problem detail naming what is wrong */
  parse(envelope: unknown): { job: J } | { detail: string };
  /**
   * The running job's key: one job per key runs at once on a processor (a second gets 409), and
   * `DELETE /jobs/{key}` cancels it. Default `${videoId}#${attempt}`.
   */
  jobKey?(job: J): string;
  /**
   * Wall-clock limit of one job of this kind: `seconds`, and `setting` the variable that sets it (named
   * in the ERROR). Default `config.jobTimeoutSeconds` (`JOB_TIMEOUT_SECONDS`).
   */
  timeout?(config: ProcessorConfig): { seconds: number; setting: string };
  /**
   * True when the job's output is already stored (a finished attempt sent again): the runner answers 409,
   * aborts the job it started beside this check, and never replaces that output. Errors count as "not
   * known": the job then runs and checks again itself (`JobContext.outputsAbsent` tells it which).
   */
  alreadyStored?(job: J, deps: { config: ProcessorConfig; storage: Storage; signal: AbortSignal }): Promise<boolean>;
  /** Runs the job. @throws JobError for anything to report as an ERROR event */
  run(job: J, ctx: JobContext): Promise<R>;
  /** Schema every event line is checked against before it is written. */
  eventSchema: z.ZodType;
  processingEvent(job: J): unknown;
  progressEvent(job: J, progress: JobProgress): unknown;
  successEvent(job: J, result: R): unknown;
  errorEvent(job: J, failure: JobFailure): unknown;
  /** Fields of the `job started` log line. */
  startLogFields?(job: J): LogFields;
  /** Fields of the `job succeeded` log line. */
  successLogFields?(result: R): LogFields;
}

/** A job kind of any job and result type (the registry's element). */
export type AnyJobKind = JobKind<any, any>;
