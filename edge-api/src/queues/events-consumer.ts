/**
 * Consumer of the processor's events (queue vidsnap-events): MSG_EXTRACT_SNAPSHOT_PROCESSING, _SUCCESS,
 * _ERROR. Applies each to D1 (services/videos/apply-processor-event.ts) and, when an attempt ends (or a
 * terminal event is redelivered), queues the outcome email. Invalid messages are logged and acked; D1 or
 * queue failures throw, and the caller retries the message (every step is idempotent).
 */
import { ExtractSnapshotEvent } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { applyProcessorEvent } from "../services/videos/apply-processor-event.ts";
import { sendOutcomeEmail } from "../services/videos/send-outcome-email.ts";

/** Handles one event message; acks it, or throws for a retry. */
export async function consumeEvent(message: Message<unknown>, deps: Deps): Promise<void> {
  const parsed = ExtractSnapshotEvent.safeParse(message.body);
  if (!parsed.success) {
    deps.log.warn("invalid processor event dropped", { issues: parsed.error.issues.map((i) => i.path.join(".")) });
    message.ack();
    return;
  }
  const event = parsed.data;
  const log = deps.log.child({ videoId: event.payload.videoId, attempt: event.payload.attempt });
  const outcome = await applyProcessorEvent({ ...deps, log }, event);
  log.info("processor event handled", { result: outcome.result, status: outcome.video?.status });
  if (event.type !== "MSG_EXTRACT_SNAPSHOT_PROCESSING" && outcome.result !== "ignored") {
    await sendOutcomeEmail({ ...deps, log }, outcome.video);
  }
  message.ack();
}
