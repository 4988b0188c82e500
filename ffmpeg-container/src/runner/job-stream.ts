import type { SourceCache } from "../sources/source-cache.ts";
import { mkdtemp, rm } from "node:fs/promises";
import type http from "node:http";
import path from "node:path";
import type { Logger } from "../../../runtime/log.ts";
import { jobErrorFields } from "../../../schema/messages/job-error.ts";
import { DEFAULT_HEARTBEAT_SECONDS, type ProcessorConfig } from "../config.ts";
import type { FfmpegBinaries } from "../ffmpeg/binaries.ts";
import { redact } from "../ffmpeg/stderr.ts";
import type { Storage } from "../s3.ts";
import { ClientGoneError, JobError } from "./errors.ts";
import type { AnyJobKind, JobFailure, JobProgress, JobRef } from "./job-kind.ts";

/** Prefix of a job's folder under the processor's work root. */
export const JOB_FOLDER_PREFIX = "vidsnap-job-";

/** What a job stream needs from the server. */
export interface JobStreamDeps {
  config: ProcessorConfig;
  /** The job's storage, signing with its own credentials. */
  storage: Storage;
  /** The job's secrets (its credentials' secret keys and session tokens): redacted from any crash text. */
  secrets: readonly string[];
  /** The processor's logger; the job's lines are bound to its `jobId`. */
  log: Logger;
  bins(): Promise<FfmpegBinaries>;
  /** The processor's local copies of sources. */
  sources?: SourceCache | undefined;
  /**
   * The runner's check of the job's outputs ({@link JobKind.alreadyStored}), running beside the job's start:
   * true stored, false absent, null unknown (a storage error). Absent when the kind has none.
   */
  outputsStored?: Promise<boolean | null> | undefined;
}

/** How the server answers once the job's outputs were checked (the answer's status waits for that check). */
export interface JobAnswers {
  /** The job goes on: called right before the 200 and its first event line. */
  accepted(): void;
  /** Its outputs are stored already: answer 409 (the job was aborted and wrote nothing). */
  alreadyFinished(): void;
}

/**
 * Runs one job and writes its events to `res` as NDJSON: PROCESSING first; PROGRESS at most every
 * `progressIntervalMs` when there is news; a heartbeat PROCESSING whenever the stream has been silent
 * for `heartbeatSeconds` (so the API renews the lease during ffprobe, distant targets, the final upload);
 * then one SUCCESS or ERROR. The job starts at once, beside the runner's output check (`deps.outputsStored`):
 * the 200 and the first line wait for that check, and when it finds the output stored the job is aborted
 * (it writes nothing before the check passed: `JobContext.outputsAbsent`) and `answers.alreadyFinished`
 * answers instead. The job is aborted on timeout (the kind's, default `jobTimeoutSeconds`), client disconnect
 * (no final event: no one listens) or `controller.abort(reason)`; its folder is removed whatever happens.
 * Never throws.
 * @param onSettled called when the job's outcome is known, before the final line is written (the
 *   server frees the slot there, so a client that read the line sees `runningJobs` without it)
 */
export async function streamJob(
  kind: AnyJobKind,
  job: JobRef,
  jobId: string,
  controller: AbortController,
  res: http.ServerResponse,
  deps: JobStreamDeps,
  onSettled: () => void,
  answers: JobAnswers,
): Promise<void> {
  const { config } = deps;
  const log = deps.log.child({ jobId });
  const started = Date.now();
  log.info("job started", kind.startLogFields?.(job) ?? {});
  let finished = false;
  /** Set once the job settled (or the client left): no PROCESSING line may follow. */
  let stopped = false;
  /** Set once the 200 is written: lines may go out. */
  let streaming = false;
  let heartbeat: NodeJS.Timeout | undefined;
  const stopTimers = () => {
    stopped = true;
    clearTimeout(heartbeat);
    heartbeat = undefined;
  };
  res.on("close", () => {
    stopTimers();
    if (!finished) controller.abort(new ClientGoneError());
  });
  const heartbeatMs = (config.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000;
  /** (Re)starts the silence timer: it fires `heartbeatMs` after the last line written. */
  const armHeartbeat = () => {
    clearTimeout(heartbeat);
    heartbeat = stopped ? undefined : setTimeout(sendHeartbeat, heartbeatMs);
  };
  /** Writes one event line after validating it; a (buggy) invalid event is logged, never thrown from a timer. */
  const write = (event: unknown, final: boolean): boolean => {
    const checked = kind.eventSchema.safeParse(event);
    if (!checked.success) {
      log.error("invalid event not sent", { type: (event as { type?: unknown }).type, issues: checked.error.issues.map((i) => i.message) });
      return false;
    }
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(checked.data) + "\n");
    // Any non-final line restarts the silence timer.
    if (!final) armHeartbeat();
    return true;
  };
  function sendHeartbeat(): void {
    heartbeat = undefined;
    if (!stopped) write(kind.processingEvent(job), false);
  }

  /** Newest progress reported by the job (never lower than the one before). */
  let latest: JobProgress | undefined;
  /** Progress of the last PROGRESS line written. */
  let sent: JobProgress | undefined;
  // PROGRESS at most every progressIntervalMs (2 s by contract), only when there is news. The explicit
  // check keeps the minimum gap even if a delayed tick is followed by a punctual one.
  let lastProgressAt = Number.NEGATIVE_INFINITY;
  const ticker = setInterval(() => {
    if (!streaming || !latest || latest === sent || Date.now() - lastProgressAt < config.progressIntervalMs) return;
    lastProgressAt = Date.now();
    if (stopped) return;
    sent = latest;
    write(kind.progressEvent(job, latest), false);
  }, Math.max(10, Math.floor(config.progressIntervalMs / 4)));
  const limit = kind.timeout?.(config) ?? { seconds: config.jobTimeoutSeconds, setting: "JOB_TIMEOUT_SECONDS" };
  const timeout = setTimeout(() => {
    controller.abort(
      new JobError(
        `Processing took longer than the limit of ${limit.seconds} seconds and was stopped.`,
        `The job timeout (${limit.setting}) was reached; ffmpeg was killed and the partial output discarded.`,
      ),
    );
  }, limit.seconds * 1000);

  /** The job's final event (undefined: none to send). */
  const outcome = (async (): Promise<unknown> => {
    let workDir: string | undefined;
    try {
      const bins = await deps.bins();
      workDir = await mkdtemp(path.join(config.tmpDir, JOB_FOLDER_PREFIX));
      const result: unknown = await kind.run(job, {
        jobId,
        workDir,
        signal: controller.signal,
        log,
        config,
        storage: deps.storage,
        bins,
        sources: deps.sources,
        outputsAbsent: deps.outputsStored?.then((stored) => stored === false),
        progress(fraction, counters = {}, gauges = {}) {
          // Progress never goes down, even if a later image reports an earlier position; gauges (speed,
          // ETA) are measures, not positions: the latest wins.
          const merged: Record<string, number> = { ...latest?.counters };
          for (const [k, v] of Object.entries(counters)) merged[k] = Math.max(v, merged[k] ?? 0);
          latest = { fraction: Math.max(fraction, latest?.fraction ?? 0), counters: merged, gauges: { ...latest?.gauges, ...gauges } };
        },
      });
      log.info("job succeeded", { ...kind.successLogFields?.(result), totalMs: Date.now() - started });
      return kind.successEvent(job, result);
    } catch (e) {
      const reason = controller.signal.aborted ? controller.signal.reason : e;
      if (reason instanceof ClientGoneError || reason instanceof AlreadyFinishedError) {
        log.warn(reason instanceof ClientGoneError ? "job aborted: client disconnected" : "job aborted: output already stored", { totalMs: Date.now() - started });
        return undefined;
      }
      const failure = describeFailure(reason, deps.secrets, log);
      log.warn("job failed", { ...failure, totalMs: Date.now() - started });
      return kind.errorEvent(job, failure);
    } finally {
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  })();

  /** Waits for the job's final event and stops the timers; the outcome is known from here on. */
  const settle = async (): Promise<unknown> => {
    const final = await outcome;
    clearInterval(ticker);
    clearTimeout(timeout);
    stopTimers();
    onSettled();
    finished = true;
    return final;
  };

  if ((await deps.outputsStored) === true) {
    controller.abort(new AlreadyFinishedError());
    await settle();
    if (!res.destroyed) answers.alreadyFinished();
    return;
  }
  if (!res.destroyed) {
    answers.accepted();
    res.writeHead(200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    streaming = true;
    write(kind.processingEvent(job), false);
  }
  const final = await settle();
  if (final !== undefined && !write(final, true)) {
    write(kind.errorEvent(job, { errorMessage: "The video processor failed unexpectedly.", errorDescription: "invalid result event" }), true);
  }
  res.end();
}

/** Abort reason of a job whose output the runner's check found stored: nothing is reported, the answer is 409. */
class AlreadyFinishedError extends Error {
  constructor() {
    super("The output of this attempt is already stored.");
  }
}

/**
 * The ERROR fields of a failure: a JobError's own sentence, detail and `retryable` flag; anything else is a
 * bug, logged with its stack and reported as an unexpected (permanent) failure. Both texts are redacted and
 * cut to the event's limits.
 */
function describeFailure(reason: unknown, secrets: readonly string[], log: Logger): JobFailure {
  let errorMessage: string;
  let errorDescription: string;
  if (reason instanceof JobError) {
    errorMessage = reason.message;
    errorDescription = reason.description;
    if (reason.retryable) return jobErrorFields(errorMessage, errorDescription, { retryable: true });
  } else {
    log.error("job crashed", { error: redact(String((reason as Error)?.stack ?? reason), secrets) });
    errorMessage = "The video processor failed unexpectedly.";
    errorDescription = redact(String((reason as Error)?.message ?? reason), secrets);
  }
  return jobErrorFields(errorMessage, errorDescription);
}
