/**
 * The job consumer of a job kind (vidsnap-extract for the extraction): hands the job message to the
 * processor (`POST /jobs`, docs/architecture.md) and relays the NDJSON events it streams back to the kind's
 * events queue.
 *
 * - Invalid envelope → logged and acked. A job whose row has moved on (deleted, another attempt, already
 *   finished) → acked without calling the processor.
 * - 409 → acked: the same (job, attempt) is already running there and will report.
 * - 400 → the processor refused the envelope: an ERROR event is sent, acked (retrying cannot help).
 * - 503, other statuses, network errors, a stream that ends without a final event, or a processor silent
 *   for PROCESSOR_IDLE_TIMEOUT_SECONDS (no response, or no NDJSON line: the request is aborted, which
 *   makes the processor abort the job; docs/architecture.md "Leases") → retried with the policy's backoff
 *   over the message's deliveries; on the last delivery an ERROR event is sent instead (sender API_SERVICE)
 *   and the message acked, so the job does not stay queued forever.
 * - 200 → each line is validated with the kind's event schema, must name this job's id, owner and attempt,
 *   and is sent to the events queue as is (sender stays the processor): PROCESSING, PROGRESS, then the first
 *   final event (SUCCESS/ERROR), which ends the relay.
 */
import type { z } from "zod";
import { backoffDelay, type BackoffPolicy } from "../../../runtime/backoff.ts";
import { errorFields } from "../../../runtime/log.ts";
import type { Deps } from "../context.ts";
import type { AttemptRef, JobKind, JobRow } from "../lifecycle/job-kind.ts";
import { isFinal, isLiveAttempt, readJob } from "../lifecycle/transitions.ts";
import { getProcessor } from "../processor/index.ts";
import { parseOrDrop } from "./parse-message.ts";

/** How a job kind's consumer retries and what its ERROR events say. */
export interface JobConsumerPolicy {
  /** Deliveries of one job message: 1 + the queue's `max_retries` in wrangler.toml. */
  maxDeliveries: number;
  /** Delay before the next delivery, seconds, by deliveries so far. */
  backoff: BackoffPolicy;
  /** errorMessage when the processor refused the job (400). */
  refusedMessage: string;
  /** errorMessage when the processor could not take the job on the last delivery. */
  unavailableMessage: string;
}

/** Reason of an aborted processor call: no response or NDJSON line for PROCESSOR_IDLE_TIMEOUT_SECONDS. */
export class ProcessorIdleError extends Error {
  override name = "ProcessorIdleError";
}

/**
 * The consumer of one job kind's job messages; each call acks or retries its message itself.
 * @throws (from the consumer) only when sending to the events queue fails outside the relay (the caller
 *   retries the message)
 */
export function jobConsumer<Row extends JobRow, Event, Job>(kind: JobKind<Row, Event, Job>, policy: JobConsumerPolicy) {
  return async (message: Message<unknown>, deps: Deps): Promise<void> => {
    const job = parseOrDrop(kind.schemas.job, message, deps, `${kind.name} job`);
    if (!job) return;
    const ref = kind.jobRef(job);
    const log = deps.log.child({ job: kind.name, id: ref.id, attempt: ref.attempt });
    const events = kind.eventQueue(deps.env);

    const row = await readJob(deps, kind, ref);
    if (!isLiveAttempt(kind, row, ref.attempt)) {
      log.info("stale job skipped", { status: row?.status, currentAttempt: row?.attempt });
      message.ack();
      return;
    }

    const idleSeconds = deps.config.processorIdleTimeoutSeconds;
    const idle = idleWatch(idleSeconds);
    let reason: string;
    try {
      const res = await idle.race(
        getProcessor(deps.env, deps.config, ref.id).fetch(
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
        await events.send(kind.errorEvent(ref, policy.refusedMessage, detail));
        message.ack();
        return;
      }
      if (res.status === 200) {
        const relayed = await relayEvents(res, kind, ref, deps, idle);
        if (relayed.terminal) {
          log.info("job finished", { events: relayed.count });
          message.ack();
          return;
        }
        reason = relayed.idle
          ? `the processor sent nothing for ${idleSeconds} s after ${relayed.count} events; the job was aborted`
          : `the processor's event stream ended after ${relayed.count} events without a final event`;
        if (relayed.idle) log.warn("processor stream idle: aborted", { events: relayed.count, idleTimeoutSeconds: idleSeconds });
      } else {
        await res.body?.cancel();
        reason = `the processor answered HTTP ${res.status}`;
      }
    } catch (err) {
      if (err instanceof ProcessorIdleError || idle.signal.aborted) {
        log.warn("processor did not answer: aborted", { idleTimeoutSeconds: idleSeconds });
        reason = `the processor did not answer within ${idleSeconds} s`;
      } else {
        log.warn("processor call failed", errorFields(err));
        reason = `the processor could not be reached (${err instanceof Error ? err.message : String(err)})`;
      }
    } finally {
      idle.stop();
    }

    if (message.attempts >= policy.maxDeliveries) {
      log.error("giving up on the job", { reason, deliveries: message.attempts });
      await events.send(kind.errorEvent(ref, policy.unavailableMessage, `Gave up after ${message.attempts} deliveries: ${reason}.`));
      message.ack();
      return;
    }
    const delaySeconds = backoffDelay(message.attempts, policy.backoff);
    log.warn("job will be retried", { reason, delaySeconds, deliveries: message.attempts });
    message.retry({ delaySeconds });
  };
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
async function relayEvents<Event>(
  res: Response,
  kind: JobKind<JobRow, Event, unknown>,
  job: AttemptRef,
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
    const event = (kind.schemas.event as z.ZodType<Event>).safeParse(json);
    if (!event.success) {
      deps.log.warn("processor sent an invalid event", { issues: event.error.issues.map((i) => i.path.join(".")) });
      return false;
    }
    const ref = kind.eventRef(event.data);
    if (ref.id !== job.id || ref.userId !== job.userId || ref.attempt !== job.attempt) {
      deps.log.warn("processor sent an event of another job", { eventId: ref.id, eventAttempt: ref.attempt });
      return false;
    }
    await kind.eventQueue(deps.env).send(event.data);
    count++;
    return isFinal(kind.eventPhase(event.data));
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
