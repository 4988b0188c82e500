/**
 * Consumer of MSG_EXTRACT_SNAPSHOT (queue vidsnap-extract): hands the job to the processor
 * (`POST /jobs`, docs/architecture.md) and relays the NDJSON events it streams back to EVENTS_QUEUE.
 *
 * - Invalid envelope → logged and acked. A job whose record has moved on (deleted, another attempt,
 *   already finished) → acked without calling the processor.
 * - 409 → acked: the same (video, attempt) is already running there and will report.
 * - 400 → the processor refused the envelope: an ERROR event is sent, acked (retrying cannot help).
 * - 503, other statuses, network errors, a stream that ends without SUCCESS/ERROR, or a processor silent
 *   for PROCESSOR_IDLE_TIMEOUT_SECONDS (no response, or no NDJSON line: the request is aborted, which
 *   makes the processor abort the job; docs/architecture.md "Leases") → retried with
 *   exponential backoff 10·2^(deliveries−1) s capped at 300 s; on the last delivery
 *   ({@link EXTRACT_MAX_DELIVERIES}) an ERROR event "The image processor is unavailable" (sender
 *   API_SERVICE) is sent instead and the message acked, so the video does not stay queued forever.
 * - 200 → each line is validated with ExtractSnapshotEvent, must name this job's video, user and attempt,
 *   and is sent to EVENTS_QUEUE as is (sender stays VIDEO_IMAGE_PROCESSOR_SERVICE): PROCESSING, PROGRESS,
 *   then the first terminal event (SUCCESS/ERROR), which ends the relay.
 */
import { ExtractSnapshotEvent, ExtractSnapshotMessage, isFinalExtractEvent } from "../../../schema/messages/index.ts";
import { backoffDelay } from "../../../runtime/backoff.ts";
import { errorFields } from "../../../runtime/log.ts";
import type { Deps } from "../context.ts";
import { extractJob } from "../lifecycle/extract-job.ts";
import { isLiveAttempt, readJob } from "../lifecycle/transitions.ts";
import { getProcessor } from "../processor/index.ts";
import { parseOrDrop } from "./parse-message.ts";

/** Deliveries of one extraction message: 1 + `max_retries` (3) of vidsnap-extract in wrangler.toml. */
export const EXTRACT_MAX_DELIVERIES = 4;
/** First retry delay, seconds; doubled on each further delivery. */
export const RETRY_BASE_SECONDS = 10;
/** Longest retry delay, seconds. */
export const RETRY_CAP_SECONDS = 300;
/** errorMessage of the ERROR event sent when the processor could not take the job on its last delivery. */
export const PROCESSOR_UNAVAILABLE = "The image processor is unavailable";

/** Reason of an aborted processor call: no response or NDJSON line for PROCESSOR_IDLE_TIMEOUT_SECONDS. */
export class ProcessorIdleError extends Error {
  override name = "ProcessorIdleError";
}

/** Delay before the next delivery after `deliveries` deliveries (1-based), seconds. */
export function retryDelaySeconds(deliveries: number): number {
  return backoffDelay(deliveries, { base: RETRY_BASE_SECONDS, max: RETRY_CAP_SECONDS });
}

/**
 * Handles one message of vidsnap-extract; acks or retries it itself.
 * @throws only when sending to EVENTS_QUEUE fails outside the relay (the caller retries the message)
 */
export async function consumeExtract(message: Message<unknown>, deps: Deps): Promise<void> {
  const job = parseOrDrop(ExtractSnapshotMessage, message, deps, "MSG_EXTRACT_SNAPSHOT");
  if (!job) return;
  const { videoId, userId, attempt } = job.payload;
  const log = deps.log.child({ videoId, attempt });

  const row = await readJob(deps, extractJob, { id: videoId, userId });
  if (!isLiveAttempt(extractJob, row, attempt)) {
    log.info("stale extraction job skipped", { status: row?.status, currentAttempt: row?.attempt });
    message.ack();
    return;
  }

  const idle = idleWatch(deps.config.processorIdleTimeoutSeconds);
  let reason: string;
  try {
    const res = await idle.race(
      getProcessor(deps.env, deps.config, videoId).fetch(
        new Request("http://processor/jobs", {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": message.id },
          body: JSON.stringify(job),
          signal: idle.signal,
        }),
      ),
    );
    if (res.status === 409) {
      await res.body?.cancel();
      log.info("job already running in the processor; acked");
      message.ack();
      return;
    }
    if (res.status === 400) {
      const detail = (await res.text()).slice(0, 1000);
      log.error("processor refused the job", { detail });
      await deps.env.EVENTS_QUEUE.send(errorEvent(job, "The image processor refused the job", detail));
      message.ack();
      return;
    }
    if (res.status === 200) {
      const relayed = await relayEvents(res, job, deps, idle);
      if (relayed.terminal) {
        log.info("job finished", { events: relayed.count });
        message.ack();
        return;
      }
      reason = relayed.idle
        ? `the processor sent nothing for ${deps.config.processorIdleTimeoutSeconds} s after ${relayed.count} events; the job was aborted`
        : `the processor's event stream ended after ${relayed.count} events without a final event`;
      if (relayed.idle) log.warn("processor stream idle: aborted", { events: relayed.count, idleTimeoutSeconds: deps.config.processorIdleTimeoutSeconds });
    } else {
      await res.body?.cancel();
      reason = `the processor answered HTTP ${res.status}`;
    }
  } catch (err) {
    if (err instanceof ProcessorIdleError || idle.signal.aborted) {
      log.warn("processor did not answer: aborted", { idleTimeoutSeconds: deps.config.processorIdleTimeoutSeconds });
      reason = `the processor did not answer within ${deps.config.processorIdleTimeoutSeconds} s`;
    } else {
      log.warn("processor call failed", errorFields(err));
      reason = `the processor could not be reached (${err instanceof Error ? err.message : String(err)})`;
    }
  } finally {
    idle.stop();
  }

  if (message.attempts >= EXTRACT_MAX_DELIVERIES) {
    log.error("giving up on the job", { reason, deliveries: message.attempts });
    await deps.env.EVENTS_QUEUE.send(
      errorEvent(job, PROCESSOR_UNAVAILABLE, `Gave up after ${message.attempts} deliveries: ${reason}.`),
    );
    message.ack();
    return;
  }
  const delaySeconds = retryDelaySeconds(message.attempts);
  log.warn("job will be retried", { reason, delaySeconds, deliveries: message.attempts });
  message.retry({ delaySeconds });
}

/** An idle timer over one processor call: armed at once, re-armed on every NDJSON line. */
interface IdleWatch {
  /** Aborted with a {@link ProcessorIdleError} when the timer fires. */
  signal: AbortSignal;
  /** Settles like `promise`, or rejects with the ProcessorIdleError when the timer fires first. */
  race<T>(promise: Promise<T>): Promise<T>;
  /** Restarts the timer (a line arrived). */
  touch(): void;
  /** Clears the timer (the call is over). */
  stop(): void;
}

/** @param seconds PROCESSOR_IDLE_TIMEOUT_SECONDS */
function idleWatch(seconds: number): IdleWatch {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fired = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
  });
  fired.catch(() => undefined); // observed through race(); never an unhandled rejection
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new ProcessorIdleError(`no answer or NDJSON line for ${seconds} s`)), seconds * 1000);
  };
  touch();
  return {
    signal: controller.signal,
    race: (promise) => Promise.race([promise, fired]),
    touch,
    stop: () => clearTimeout(timer),
  };
}

/**
 * Reads the NDJSON body line by line (streaming) and relays each valid event of this job. Every line
 * re-arms `idle`; when it fires, the body is cancelled (the connection closes, the processor aborts the job).
 * @returns how many events were relayed, whether a terminal one (SUCCESS/ERROR) was among them, and
 *   whether the stream was given up because it was idle
 */
async function relayEvents(
  res: Response,
  job: ExtractSnapshotMessage,
  deps: Deps,
  idle: IdleWatch,
): Promise<{ terminal: boolean; count: number; idle?: boolean }> {
  if (!res.body) return { terminal: false, count: 0 };
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let count = 0;
  const relay = async (line: string): Promise<boolean> => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      deps.log.warn("processor sent a line that is not JSON", { length: line.length });
      return false;
    }
    const event = ExtractSnapshotEvent.safeParse(json);
    if (!event.success) {
      deps.log.warn("processor sent an invalid event", { issues: event.error.issues.map((i) => i.path.join(".")) });
      return false;
    }
    const p = event.data.payload;
    if (p.videoId !== job.payload.videoId || p.userId !== job.payload.userId || p.attempt !== job.payload.attempt) {
      deps.log.warn("processor sent an event of another job", { eventVideoId: p.videoId, eventAttempt: p.attempt });
      return false;
    }
    await deps.env.EVENTS_QUEUE.send(event.data);
    count++;
    return isFinalExtractEvent(event.data.type);
  };
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await idle.race(reader.read());
      } catch (err) {
        // The aborted signal may also make the body read itself fail first, with an AbortError.
        if (!(err instanceof ProcessorIdleError) && !idle.signal.aborted) throw err;
        await reader.cancel(err).catch(() => undefined);
        return { terminal: false, count, idle: true };
      }
      const { value, done } = chunk;
      if (done) break;
      buffer += value;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        idle.touch();
        if (line && (await relay(line))) {
          await reader.cancel().catch(() => undefined);
          return { terminal: true, count };
        }
      }
    }
    const last = buffer.trim();
    if (last && (await relay(last))) return { terminal: true, count };
    return { terminal: false, count };
  } finally {
    reader.releaseLock();
  }
}

/** An ERROR event of `job` written by the API (the processor never sent it). */
function errorEvent(job: ExtractSnapshotMessage, errorMessage: string, errorDescription: string) {
  const { videoId, userId, attempt } = job.payload;
  return extractJob.errorEvent({ id: videoId, userId, attempt }, errorMessage, errorDescription);
}
