import type { z } from "zod";
import type { Logger, LogFields } from "../../../runtime/log.ts";
import type { ProcessorConfig } from "../config.ts";
import type { FfmpegBinaries } from "../ffmpeg/binaries.ts";
import type { Storage } from "../s3.ts";

/** What every job names: the video and the attempt (the runner's job id is `${videoId}#${attempt}`). */
export interface JobRef {
  videoId: string;
  attempt: number;
}

/**
 * Progress a job reports: `fraction` of the work done (0..1) and kind-specific counters (e.g. `images`).
 * The runner never lets either go down.
 */
export interface JobProgress {
  fraction: number;
  counters: Record<string, number>;
}

/** What the runner gives a running job. */
export interface JobContext {
  /** `${videoId}#${attempt}`. */
  jobId: string;
  /** The job's own empty folder, removed by the runner when the job ends (whatever happens). */
  workDir: string;
  /** Aborted on timeout, client disconnect or shutdown; `signal.reason` is what the job should throw. */
  signal: AbortSignal;
  /** Bound to `jobId`. */
  log: Logger;
  /** Reports progress; the runner throttles it into PROGRESS events (at most one per progress interval). */
  progress(fraction: number, counters?: Record<string, number>): void;
  config: ProcessorConfig;
  storage: Storage;
  /** ffmpeg/ffprobe, resolved once per processor. */
  bins: FfmpegBinaries;
}

/**
 * `errorMessage` (one human sentence) and `errorDescription` (redacted detail) of an ERROR event, and
 * `retryable` when the fault is transient (set only then).
 */
export interface JobFailure {
  errorMessage: string;
  errorDescription: string;
  retryable?: true;
}

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
   * True when the job's output is already stored (a finished attempt sent again): the runner answers 409
   * without running it, and never replaces that output. Errors count as "not known": the job then runs and
   * checks again itself.
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
