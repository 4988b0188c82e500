/**
 * Consumer of the processor's events (queue vidsnap-events): MSG_EXTRACT_SNAPSHOT_PROCESSING, _PROGRESS,
 * _SUCCESS, _ERROR. Each goes through services/videos/record-processor-event.ts: the state transition in D1, the
 * outcome email when an attempt ends (or a terminal event is redelivered), and the removal of the output
 * of a video deleted while it was processed. Invalid messages are logged and acked; D1, queue or storage
 * failures throw, and the caller retries the message (every step is idempotent). An event of a video that
 * no longer exists changes nothing and is acked.
 */
import { ExtractSnapshotEvent } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { parseOrDrop } from "./parse-message.ts";
import { recordProcessorEvent } from "../services/videos/record-processor-event.ts";

/** Handles one event message; acks it, or throws for a retry. */
export async function consumeEvent(message: Message<unknown>, deps: Deps): Promise<void> {
  const event = parseOrDrop(ExtractSnapshotEvent, message, deps, "processor event");
  if (!event) return;
  const log = deps.log.child({ videoId: event.payload.videoId, attempt: event.payload.attempt });
  await recordProcessorEvent({ ...deps, log }, event);
  message.ack();
}
