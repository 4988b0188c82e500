/**
 * Consumer of the processor's events (queue vidsnap-events), applied through the lifecycle
 * (../lifecycle/record-event.ts). Invalid messages are logged and acked; D1, queue or storage failures
 * throw and the caller retries the message (every step is idempotent).
 */
import { ExtractSnapshotEvent } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { extractJob } from "../lifecycle/extract-job.ts";
import { recordEvent } from "../lifecycle/record-event.ts";
import { parseOrDrop } from "./parse-message.ts";

/** Handles one event message; acks it, or throws for a retry. */
export async function consumeEvent(message: Message<unknown>, deps: Deps): Promise<void> {
  const event = parseOrDrop(ExtractSnapshotEvent, message, deps, "processor event");
  if (!event) return;
  const log = deps.log.child({ videoId: event.payload.videoId, attempt: event.payload.attempt });
  await recordEvent({ ...deps, log }, extractJob, event);
  message.ack();
}
