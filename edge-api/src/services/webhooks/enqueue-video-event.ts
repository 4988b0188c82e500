/**
 * Queues the webhooks of a finished attempt, next to the outcome email: one `webhook_deliveries` row per
 * enabled endpoint of the video's owner subscribed to the event (`video.ready` for SUCCESS, `video.failed`
 * for ERROR, `video.import_failed` for VIDEO_IMPORT_ERROR, `video.generation_failed` for VIDEO_GENERATION_ERROR), then one MSG_DELIVER_WEBHOOK per row on WEBHOOK_QUEUE.
 *
 * Idempotent: the rows are unique on (endpoint, video, job, attempt, event type), so a redelivered processor
 * event inserts nothing new. It re-sends the message of rows still pending and never tried (the earlier
 * send may have failed after the insert); the consumer's claim makes such a duplicate message harmless.
 * The body (`{id, type, createdAt, data: {video}}`, docs/webhooks.md) is fixed when the row is written,
 * so every try and every endpoint gets the video as it was when the event happened. An endpoint already at its
 * cap of waiting deliveries gets its row written `failed` and no message (./pending-cap.ts).
 */
import { and, eq, inArray } from "drizzle-orm";
import type { WebhookEventBody } from "../../../../schema/api.ts";
import { webhookDeliveries, webhookEndpoints } from "../../../../schema/db.ts";
import { deliverWebhookMessage, type DeliverWebhookMessage, type WebhookEventType } from "../../../../schema/messages/index.ts";
import type { Deps } from "../../context.ts";
import { toVideo, type VideoRow } from "../videos/serialize.ts";
import { cappedDeliveryColumns } from "./pending-cap.ts";
import { ERROR, G_ERROR, I_ERROR, SUCCESS } from "../../lifecycle/statuses.ts";

/** The webhook event of each final video status. */
const VIDEO_EVENT_TYPES: Partial<Record<string, WebhookEventType>> = {
  [SUCCESS]: "video.ready",
  [ERROR]: "video.failed",
  [I_ERROR]: "video.import_failed",
  [G_ERROR]: "video.generation_failed",
};

/**
 * `evt_` + 32 hex characters of SHA-256(subjectId:attempt:type), the subject being the video (`video.*`)
 * or the transcode (`transcode.*`): the same event gets the same id on every endpoint and after a
 * redelivery, so receivers can deduplicate on it.
 */
export async function videoEventId(subjectId: string, attempt: number, type: WebhookEventType): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${subjectId}:${attempt}:${type}`));
  return "evt_" + [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 32);
}

/** The queue message of a delivery row. */
export function deliveryMessage(row: { id: string; endpointId: string; userId: string; eventId: string }): DeliverWebhookMessage {
  return deliverWebhookMessage({ deliveryId: row.id, endpointId: row.endpointId, userId: row.userId, eventId: row.eventId });
}

/**
 * @param video a record in SUCCESS, ERROR, VIDEO_IMPORT_ERROR or VIDEO_GENERATION_ERROR (anything else queues nothing)
 * @returns the number of messages sent
 * @throws on D1 or queue failures (the caller retries its message; this is idempotent)
 */
export async function enqueueVideoWebhooks(deps: Deps, video: VideoRow): Promise<number> {
  const type: WebhookEventType | undefined = VIDEO_EVENT_TYPES[video.status];
  if (!type) return 0;
  return enqueueWebhookEvent(deps, {
    type,
    userId: video.userId,
    videoId: video.id,
    jobId: "",
    attempt: video.attempt,
    eventId: await videoEventId(video.id, video.attempt, type),
    data: async () => ({ video: toVideo(video) }),
  });
}

/** One event of one job attempt, to deliver to every subscribed endpoint of its owner. */
export interface WebhookEvent {
  type: WebhookEventType;
  userId: string;
  videoId: string;
  /** '' for the video's extraction; the transcode id for `transcode.*` (part of the deliveries' unique key). */
  jobId: string;
  attempt: number;
  /** `evt_…`, the same on every endpoint and redelivery ({@link videoEventId}). */
  eventId: string;
  /** The body's `data`, built only when some endpoint is subscribed. */
  data: () => Promise<WebhookEventBody["data"]>;
}

/**
 * Writes one delivery row per enabled endpoint of the owner subscribed to `event.type` (unique on
 * endpoint, video, job, attempt and type: a redelivered event inserts nothing), then sends the message of
 * every row still pending and never tried.
 * @returns the number of messages sent
 * @throws on D1 or queue failures (the caller retries its message; this is idempotent)
 */
export async function enqueueWebhookEvent(deps: Deps, event: WebhookEvent): Promise<number> {
  const { type } = event;
  const endpoints = await deps.db
    .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.userId, event.userId), eq(webhookEndpoints.enabled, true)));
  const subscribed = endpoints.filter((e) => e.events.includes(type)).map((e) => e.id);
  if (subscribed.length === 0) return 0;

  const { eventId } = event;
  const now = new Date();
  const body: WebhookEventBody = { id: eventId, type, createdAt: now.toISOString(), data: await event.data() };
  const payload = JSON.stringify(body);
  const [first, ...rest] = subscribed.map((endpointId) =>
    deps.db
      .insert(webhookDeliveries)
      .values({
        id: crypto.randomUUID(),
        endpointId,
        userId: event.userId,
        eventId,
        eventType: type,
        videoId: event.videoId,
        jobId: event.jobId,
        attempt: event.attempt,
        payload,
        ...cappedDeliveryColumns(endpointId, now),
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: webhookDeliveries.id, endpointId: webhookDeliveries.endpointId, status: webhookDeliveries.status }),
  );
  const inserted = (await deps.db.batch([first!, ...rest])).flat();
  const capped = inserted.filter((row) => row.status !== "pending");
  if (capped.length > 0) {
    deps.log.warn("webhooks not queued: too many deliveries waiting", {
      videoId: event.videoId,
      eventType: type,
      eventId,
      webhookIds: capped.map((row) => row.endpointId),
    });
  }

  const due = await deps.db
    .select({
      id: webhookDeliveries.id,
      endpointId: webhookDeliveries.endpointId,
      userId: webhookDeliveries.userId,
      eventId: webhookDeliveries.eventId,
    })
    .from(webhookDeliveries)
    .where(
      and(
        inArray(webhookDeliveries.endpointId, subscribed),
        eq(webhookDeliveries.userId, event.userId),
        eq(webhookDeliveries.videoId, event.videoId),
        eq(webhookDeliveries.jobId, event.jobId),
        eq(webhookDeliveries.attempt, event.attempt),
        eq(webhookDeliveries.eventType, type),
        eq(webhookDeliveries.status, "pending"),
        eq(webhookDeliveries.attemptsMade, 0),
      ),
    );
  if (due.length === 0) return 0;
  await deps.env.WEBHOOK_QUEUE.sendBatch(due.map((row) => ({ body: deliveryMessage(row), contentType: "json" as const })));
  deps.log.info("webhooks queued", { videoId: event.videoId, jobId: event.jobId, attempt: event.attempt, eventType: type, eventId, deliveries: due.length });
  return due.length;
}
