/**
 * Consumer of the processor's events (queue vidsnap-events), applied through the lifecycle
 * (../lifecycle/record-event.ts). Invalid messages are logged and acked; D1, queue or storage failures
 * throw and the caller retries the message (every step is idempotent).
 */
import type { Deps } from "../context.ts";
import { extractJob } from "../lifecycle/extract-job.ts";
import type { JobKind, JobRow } from "../lifecycle/job-kind.ts";
import { recordEvent } from "../lifecycle/record-event.ts";
import { parseOrDrop } from "./parse-message.ts";

/** The consumer of one job kind's events; each call acks its message, or throws for a retry. */
export function eventConsumer<Row extends JobRow, Event>(kind: JobKind<Row, Event, unknown>) {
  return async (message: Message<unknown>, deps: Deps): Promise<void> => {
    const event = parseOrDrop(kind.schemas.event, message, deps, `${kind.name} event`);
    if (!event) return;
    const ref = kind.eventRef(event);
    await recordEvent({ ...deps, log: deps.log.child({ job: kind.name, id: ref.id, attempt: ref.attempt }) }, kind, event);
    message.ack();
  };
}

/** MSG_EXTRACT_SNAPSHOT_PROCESSING / _PROGRESS / _SUCCESS / _ERROR. */
export const consumeEvent = eventConsumer(extractJob);
