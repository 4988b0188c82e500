/**
 * Dispatch of one job attempt to the processor, run inside the processor's Durable Object
 * ({@link ProcessorContainer}, docs/architecture.md "Dispatch and long jobs"):
 *
 * 1. {@link startJob} POSTs the signed job envelope to the container's `/jobs` and waits only for the
 *    answer's status: 200 → `started`, 409 → `running`, 400 → `refused`, 503 (every job slot taken, or
 *    shutting down) → `busy` (the object then tries another instance, ./index.ts), anything else (401, 5xx,
 *    network error, no answer within PROCESSOR_IDLE_TIMEOUT_SECONDS) → `unavailable`. The queue consumer
 *    acts on that outcome and returns: its invocation lasts milliseconds, whatever the job's length.
 * 2. {@link relayEvents} then reads the NDJSON event stream inside the Durable Object (kept running by the
 *    open container request) and sends each valid event of this attempt to the kind's events queue, until
 *    the first final event (SUCCESS/ERROR). A job may so run for TRANSCODE_TIMEOUT_SECONDS (hours), far past
 *    the 15 minutes a queue consumer invocation may last.
 * 3. A relay lost before a final event (the stream ended, or no line for PROCESSOR_IDLE_TIMEOUT_SECONDS: the
 *    request is aborted, which makes the processor abort the job) is a transient fault: a retryable ERROR
 *    event goes to the events queue at once, and the lifecycle re-queues the attempt with backoff while the
 *    job's retry budget lasts (lifecycle/record-event.ts), instead of waiting for the cron to find its lease
 *    expired.
 */
import type { z } from "zod";
import { errorFields } from "../../../runtime/log.ts";
import type { Deps } from "../context.ts";
import type { AttemptRef, JobKind, JobRow } from "../lifecycle/job-kind.ts";
import { LEASE_EXPIRED_ERROR_MESSAGE } from "../lifecycle/leases.ts";
import { isFinal } from "../lifecycle/transitions.ts";
import { SLOT_WAIT_HEADER } from "../../../runtime/job-signature.ts";

/** What {@link startJob} tells the queue consumer. */
export type DispatchOutcome =
  | { outcome: "started" }
  | { outcome: "running" }
  | { outcome: "refused"; detail: string }
  | { outcome: "busy"; reason: string }
  | { outcome: "unavailable"; reason: string };

/** Reason of an aborted processor call: no response or NDJSON line for PROCESSOR_IDLE_TIMEOUT_SECONDS. */
export class ProcessorIdleError extends Error {
  override name = "ProcessorIdleError";
}

/** Sends one request to the processor's HTTP API (the container port, or its local stand-in). */
export type ProcessorSend = (request: Request) => Promise<Response>;

/**
 * POSTs `job` to the processor and classifies the answer.
 * @param send the transport (signs nothing: the caller passes a signed request's headers in `headers`)
 * @param body the job envelope, JSON text; `headers` its signature headers and request id
 * @param idleSeconds PROCESSOR_IDLE_TIMEOUT_SECONDS: longest wait for the answer, and then between lines
 * @param slotWaitSeconds how long the processor may hold the job for a free slot (`x-vidsnap-slot-wait`;
 *   0 = answer 503 at once when busy); the wait for the answer grows by as much
 * @returns the outcome and, when `started`, the response whose body is the event stream plus its idle watch
 */
export async function startJob(
  send: ProcessorSend,
  body: string,
  headers: Record<string, string>,
  idleSeconds: number,
  slotWaitSeconds = 0,
): Promise<{ result: DispatchOutcome; stream?: { res: Response; idle: IdleWatch } }> {
  // A job allowed to wait for a slot may get its answer only when the slot frees.
  const idle = idleWatch(idleSeconds, idleSeconds + slotWaitSeconds);
  if (slotWaitSeconds > 0) headers = { ...headers, [SLOT_WAIT_HEADER]: String(slotWaitSeconds) };
  let res: Response;
  try {
    res = await idle.race(
      send(new Request("http://processor/jobs", { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal: idle.signal })),
    );
  } catch (err) {
    idle.stop();
    if (err instanceof ProcessorIdleError || idle.signal.aborted) {
      return { result: { outcome: "unavailable", reason: `the processor did not answer within ${idleSeconds} s` } };
    }
    return { result: { outcome: "unavailable", reason: `the processor could not be reached (${err instanceof Error ? err.message : String(err)})` } };
  }
  if (res.status === 200) return { result: { outcome: "started" }, stream: { res, idle } };
  idle.stop();
  if (res.status === 409) {
    await res.body?.cancel();
    return { result: { outcome: "running" } };
  }
  if (res.status === 400) return { result: { outcome: "refused", detail: (await res.text()).slice(0, 1000) } };
  await res.body?.cancel();
  // 503 is the processor saying it has no free job slot (or is shutting down): it did not take the job.
  if (res.status === 503) return { result: { outcome: "busy", reason: "the processor answered HTTP 503 (every job slot in use)" } };
  return { result: { outcome: "unavailable", reason: `the processor answered HTTP ${res.status}` } };
}

/** An idle timer over one processor call: armed at once, re-armed on every NDJSON line. */
export interface IdleWatch {
  /** Aborted with a {@link ProcessorIdleError} when the timer fires. */
  signal: AbortSignal;
  /** Settles like `promise`, or rejects with the ProcessorIdleError when the timer fires first. */
  race<T>(promise: Promise<T>): Promise<T>;
  /** Restarts the timer (a line arrived). */
  touch(): void;
  /** Clears the timer (the call is over). */
  stop(): void;
}

/**
 * @param seconds PROCESSOR_IDLE_TIMEOUT_SECONDS: the timer after each line
 * @param firstSeconds the first timer (until the answer's status); default `seconds`
 */
function idleWatch(seconds: number, firstSeconds = seconds): IdleWatch {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fired = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
  });
  fired.catch(() => undefined); // observed through race(); never an unhandled rejection
  const arm = (after: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new ProcessorIdleError(`no answer or NDJSON line for ${after} s`)), after * 1000);
  };
  const touch = () => arm(seconds);
  arm(firstSeconds);
  return {
    signal: controller.signal,
    race: (promise) => Promise.race([promise, fired]),
    touch,
    stop: () => clearTimeout(timer),
  };
}

/**
 * Relays the event stream of a started job to the kind's events queue, then reports a stream lost before a
 * final event as a retryable ERROR. Never throws: failures are logged (a lost relay that also fails to be
 * reported is left to the cron's lease sweep).
 * @param onLine called for every line read (the Durable Object renews its activity timeout there)
 */
export async function relayJob<Event>(
  deps: Deps,
  kind: JobKind<JobRow, Event, unknown>,
  ref: AttemptRef,
  stream: { res: Response; idle: IdleWatch },
  onLine: () => void = () => undefined,
): Promise<void> {
  const log = deps.log;
  let relayed: { terminal: boolean; count: number; idle?: boolean };
  try {
    relayed = await relayEvents(stream.res, kind, ref, deps, stream.idle, onLine);
  } catch (err) {
    log.warn("event relay failed", errorFields(err));
    relayed = { terminal: false, count: 0 };
  } finally {
    stream.idle.stop();
  }
  if (relayed.terminal) {
    log.info("job finished", { events: relayed.count });
    return;
  }
  const idleSeconds = deps.config.processorIdleTimeoutSeconds;
  const reason = relayed.idle
    ? `the processor sent nothing for ${idleSeconds} s after ${relayed.count} events; the job was aborted`
    : `the processor's event stream ended after ${relayed.count} events without a final event`;
  log.warn("event relay lost: retryable ERROR sent", { reason, events: relayed.count });
  try {
    // A transient fault: the lifecycle re-queues the attempt with backoff while the job's retry budget lasts,
    // then records the ERROR (lifecycle/record-event.ts); an attempt that finished or moved on ignores it.
    await kind.eventQueue(deps.env).send(kind.errorEvent(ref, LEASE_EXPIRED_ERROR_MESSAGE, `The event relay was lost: ${reason}.`, { retryable: true }));
  } catch (err) {
    log.error("lost relay could not be reported; the lease sweep will recover the attempt", errorFields(err));
  }
}

/**
 * Reads the NDJSON body line by line (streaming) and relays each valid event of this job. Every line
 * re-arms `idle`; when it fires, the body is cancelled (the connection closes, the processor aborts the job).
 * @returns how many events were relayed, whether a terminal one (SUCCESS/ERROR) was among them, and
 *   whether the stream was given up because it was idle
 * @throws Error when sending to the events queue fails
 */
async function relayEvents<Event>(
  res: Response,
  kind: JobKind<JobRow, Event, unknown>,
  job: AttemptRef,
  deps: Deps,
  idle: IdleWatch,
  onLine: () => void,
): Promise<{ terminal: boolean; count: number; idle?: boolean }> {
  if (!res.body) return { terminal: false, count: 0 };
  // Bytes decoded here rather than through a TextDecoderStream: cancelling a piped stream leaves its pipe's
  // promise rejected with nobody to observe it.
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
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
      let chunk: ReadableStreamReadResult<Uint8Array>;
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
      buffer += decoder.decode(value, { stream: true });
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        idle.touch();
        onLine();
        if (line && (await relay(line))) {
          await reader.cancel().catch(() => undefined);
          return { terminal: true, count };
        }
      }
    }
    const last = (buffer + decoder.decode()).trim();
    if (last && (await relay(last))) return { terminal: true, count };
    return { terminal: false, count };
  } finally {
    reader.releaseLock();
  }
}
