/**
 * The job consumer of a job kind (vidsnap-extract for the extraction): hands each job message to the
 * processor's Durable Object, which starts the job and relays its events itself (processor/dispatch.ts,
 * docs/architecture.md "Dispatch and long jobs"). The consumer only dispatches: its invocation ends as soon as
 * the processor has answered, however long the job runs.
 *
 * - Invalid envelope → logged and acked. A job whose row has moved on (deleted, another attempt, already
 *   finished) → acked without calling the processor.
 * - `started` (200; the object relays the events) or `running` (409: the same attempt already runs there
 *   and will report) → acked.
 * - `refused` (400: the processor refused the envelope) → an ERROR event is sent, acked (retrying cannot help).
 * - `busy` (every instance tried had all its job slots taken: processor/index.ts routes around a busy home
 *   instance first), `unavailable` (other statuses, network errors, no answer within
 *   PROCESSOR_IDLE_TIMEOUT_SECONDS), or no outcome within CONSUMER_TIME_LIMIT_SECONDS → retried with the policy's backoff over the message's
 *   deliveries; on the last delivery a retryable ERROR event is sent instead (sender API_SERVICE: the
 *   lifecycle re-queues the job with backoff while its retry budget lasts, then records the ERROR) and the
 *   message acked, so the job does not stay queued forever.
 */
import { backoffDelay, type BackoffPolicy } from "../../../runtime/backoff.ts";
import { errorFields } from "../../../runtime/log.ts";
import type { Deps } from "../context.ts";
import type { JobKind, JobRow } from "../lifecycle/job-kind.ts";
import { isLiveAttempt, readJob } from "../lifecycle/transitions.ts";
import { dispatchJob, type DispatchOutcome } from "../processor/index.ts";
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

/**
 * The consumer of one job kind's job messages; each call acks or retries its message itself.
 * @throws (from the consumer) only when sending an ERROR event fails (the caller retries the message)
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

    const limitSeconds = deps.config.consumerTimeLimitSeconds;
    let dispatched: DispatchOutcome;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const limit = new Promise<DispatchOutcome>((resolve) => {
        timer = setTimeout(
          () => resolve({ outcome: "unavailable", reason: `no answer within the consumer's ${limitSeconds} s limit` }),
          limitSeconds * 1000,
        );
      });
      dispatched = await Promise.race([dispatchJob(deps.env, kind.name, job, message.id), limit]);
    } catch (err) {
      log.warn("dispatch failed", errorFields(err));
      dispatched = { outcome: "unavailable", reason: `the processor could not be reached (${err instanceof Error ? err.message : String(err)})` };
    } finally {
      clearTimeout(timer);
    }

    switch (dispatched.outcome) {
      case "started":
        log.info("job started; its events are relayed by the processor's object");
        message.ack();
        return;
      case "running":
        log.info("job already running in the processor; acked");
        message.ack();
        return;
      case "refused":
        log.error("processor refused the job", { detail: dispatched.detail });
        await events.send(kind.errorEvent(ref, policy.refusedMessage, dispatched.detail));
        message.ack();
        return;
    }
    const { reason } = dispatched;
    if (message.attempts >= policy.maxDeliveries) {
      // A transient fault: the ERROR is retryable, so the lifecycle re-queues the job with its backoff while
      // the retry budget lasts (lifecycle/record-event.ts) and records ERROR only after that.
      log.error("processor unavailable on every delivery: retryable ERROR sent", { reason, deliveries: message.attempts });
      await events.send(
        kind.errorEvent(ref, policy.unavailableMessage, `Gave up after ${message.attempts} deliveries: ${reason}.`, { retryable: true }),
      );
      message.ack();
      return;
    }
    const delaySeconds = backoffDelay(message.attempts, policy.backoff);
    log.warn("job will be retried", { reason, delaySeconds, deliveries: message.attempts });
    message.retry({ delaySeconds });
  };
}
