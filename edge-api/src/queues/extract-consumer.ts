/**
 * Consumer of MSG_EXTRACT_SNAPSHOT (queue vidsnap-extract): hands the job to the processor
 * (`POST /jobs`, docs/architecture.md) and relays the NDJSON events it streams back to EVENTS_QUEUE.
 *
 * - Invalid envelope → logged and acked. A job whose record has moved on (deleted, another attempt,
 *   already finished) → acked without calling the processor.
 * - 409 → acked: the same (video, attempt) is already running there and will report.
 * - 400 → the processor refused the envelope: an ERROR event is sent, acked (retrying cannot help).
 * - 503, other statuses, network errors, or a stream that ends without SUCCESS/ERROR → retried with
 *   exponential backoff 10·2^(attempts−1) s capped at 300 s; on the last delivery
 *   ({@link EXTRACT_MAX_DELIVERIES}) an ERROR event "The image processor is unavailable" is sent instead
 *   and the message acked, so the video does not stay queued forever.
 * - 200 → each line is validated with ExtractSnapshotEvent, must name this job's video, user and attempt,
 *   and is sent to EVENTS_QUEUE as is (sender stays VIDEO_IMAGE_PROCESSOR_SERVICE). The first terminal
 *   event ends the relay.
 */
import { and, eq } from "drizzle-orm";
import { videos } from "../../../schema/db.ts";
import {
  ExtractSnapshotEvent,
  ExtractSnapshotMessage,
  type ExtractSnapshotErrorMessage,
} from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { errorFields } from "../log.ts";
import { getProcessor } from "../processor/index.ts";
import { isTerminal } from "../services/videos/state-machine.ts";

/** Deliveries of one extraction message: 1 + `max_retries` (3) of vidsnap-extract in wrangler.toml. */
export const EXTRACT_MAX_DELIVERIES = 4;
/** First retry delay, seconds; doubled on each further delivery. */
export const RETRY_BASE_SECONDS = 10;
/** Longest retry delay, seconds. */
export const RETRY_CAP_SECONDS = 300;
/** errorMessage of the ERROR event sent when the processor could not take the job on its last delivery. */
export const PROCESSOR_UNAVAILABLE = "The image processor is unavailable";

/** Delay before the next delivery after `attempts` deliveries (1-based), seconds. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.max(0, attempts - 1));
}

/**
 * Handles one message of vidsnap-extract; acks or retries it itself.
 * @throws only when sending to EVENTS_QUEUE fails outside the relay (the caller retries the message)
 */
export async function consumeExtract(message: Message<unknown>, deps: Deps): Promise<void> {
  const parsed = ExtractSnapshotMessage.safeParse(message.body);
  if (!parsed.success) {
    deps.log.warn("invalid MSG_EXTRACT_SNAPSHOT dropped", { issues: parsed.error.issues.map((i) => i.path.join(".")) });
    message.ack();
    return;
  }
  const job = parsed.data;
  const { videoId, userId, attempt } = job.payload;
  const log = deps.log.child({ videoId, attempt });

  const [row] = await deps.db
    .select({ status: videos.status, attempt: videos.attempt })
    .from(videos)
    .where(and(eq(videos.id, videoId), eq(videos.userId, userId)))
    .limit(1);
  if (!row || row.attempt !== attempt || isTerminal(row.status)) {
    log.info("stale extraction job skipped", { status: row?.status, currentAttempt: row?.attempt });
    message.ack();
    return;
  }

  let reason: string;
  try {
    const res = await getProcessor(deps.env, videoId).fetch(
      new Request("http://processor/jobs", {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": message.id },
        body: JSON.stringify(job),
      }),
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
      const relayed = await relayEvents(res, job, deps);
      if (relayed.terminal) {
        log.info("job finished", { events: relayed.count });
        message.ack();
        return;
      }
      reason = `the processor's event stream ended after ${relayed.count} events without a final event`;
    } else {
      await res.body?.cancel();
      reason = `the processor answered HTTP ${res.status}`;
    }
  } catch (err) {
    log.warn("processor call failed", errorFields(err));
    reason = `the processor could not be reached (${err instanceof Error ? err.message : String(err)})`;
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

/**
 * Reads the NDJSON body line by line (streaming) and relays each valid event of this job.
 * @returns how many events were relayed and whether a terminal one (SUCCESS/ERROR) was among them
 */
async function relayEvents(
  res: Response,
  job: ExtractSnapshotMessage,
  deps: Deps,
): Promise<{ terminal: boolean; count: number }> {
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
    return event.data.type !== "MSG_EXTRACT_SNAPSHOT_PROCESSING";
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
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

/** An ERROR event for `job`, sent on the processor's behalf (its schema fixes the sender). */
function errorEvent(job: ExtractSnapshotMessage, errorMessage: string, errorDescription: string): ExtractSnapshotErrorMessage {
  return {
    type: "MSG_EXTRACT_SNAPSHOT_ERROR",
    sender: "VIDEO_IMAGE_PROCESSOR_SERVICE",
    target: "VIDEO_API_SERVICE",
    payload: {
      videoId: job.payload.videoId,
      userId: job.payload.userId,
      attempt: job.payload.attempt,
      errorMessage,
      errorDescription: errorDescription.slice(0, 4000),
    },
  };
}
