/**
 * Transient faults retry through the queue's backoff (issue 18, reliability): an ERROR event with
 * `retryable: true` (the processor found the storage unavailable) of the current attempt re-queues the job
 * as attempt + 1 with a delayed job message (TRANSIENT_RETRY_BACKOFF), counts one automatic re-queue
 * (`recoveries`) and notifies no one; once MAX_TRANSIENT_RETRIES are used it is recorded as an ERROR like
 * any other, with the owner notified. A permanent ERROR never retries; a redelivered retryable ERROR of the
 * superseded attempt changes nothing.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { videos } from "../../../schema/db.ts";
import { ExtractSnapshotMessage } from "../../../schema/messages/index.ts";
import type { Deps } from "../../../edge-api/src/context.ts";
import { extractJob } from "../../../edge-api/src/lifecycle/extract-job.ts";
import { MAX_TRANSIENT_RETRIES, recordEvent, TRANSIENT_RETRY_BACKOFF } from "../../../edge-api/src/lifecycle/record-event.ts";
import { db, insertVideo, processorEvent, signUp, testDeps, testEnv } from "../support/env.ts";

/** Deps whose queues record what is sent (body and options) instead of delivering it. */
type Sent = { body: unknown; options?: QueueSendOptions }[];
function recordingDeps(): { deps: Deps; sent: { extract: Sent; email: Sent; webhooks: Sent } } {
  const sent = { extract: [] as Sent, email: [] as Sent, webhooks: [] as Sent };
  const queue = (name: keyof typeof sent) => ({ send: async (body: unknown, options?: QueueSendOptions) => void sent[name].push({ body, options }) }) as unknown as Queue<never>;
  const deps = testDeps();
  return { deps: { ...deps, env: { ...testEnv, EXTRACT_QUEUE: queue("extract"), EMAIL_QUEUE: queue("email"), WEBHOOK_QUEUE: queue("webhooks") } }, sent };
}

const row = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0]!;
const STORAGE_DOWN = { errorMessage: "The uploaded video could not be read from storage.", errorDescription: "ECONNREFUSED", retryable: true };

describe("a retryable ERROR re-queues the attempt with backoff", () => {
  it("the current attempt → attempt + 1 queued, job message delayed 15-18 s, recoveries + 1, no email, no ERROR recorded", async () => {
    const { userId } = await signUp("transient");
    const videoId = await insertVideo(userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1 });
    const { deps, sent } = recordingDeps();
    const outcome = await recordEvent(deps, extractJob, processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId, userId, attempt: 1 }, STORAGE_DOWN));
    expect(outcome.result).toBe("requeued");
    const after = await row(videoId);
    expect(after).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2, recoveries: 1, errorMessage: null, completedAt: null });
    // The lease starts after the delay.
    expect(after.leaseExpiresAt!.getTime() - Date.now()).toBeGreaterThan((deps.config.jobLeaseSeconds + 10) * 1000);
    expect(sent.extract).toHaveLength(1);
    const job = ExtractSnapshotMessage.parse(sent.extract[0]!.body);
    expect(job.payload).toMatchObject({ videoId, attempt: 2 });
    const delay = sent.extract[0]!.options?.delaySeconds ?? 0;
    expect(delay).toBeGreaterThanOrEqual(TRANSIENT_RETRY_BACKOFF.base);
    expect(delay).toBeLessThanOrEqual(TRANSIENT_RETRY_BACKOFF.base * 1.2 + 1);
    expect(sent.email).toEqual([]);
    expect(sent.webhooks).toEqual([]);

    // The same ERROR delivered again (queue redelivery) belongs to a superseded attempt now: nothing happens.
    const again = await recordEvent(deps, extractJob, processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId, userId, attempt: 1 }, STORAGE_DOWN));
    expect(again.result).toBe("ignored");
    expect(await row(videoId)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2, recoveries: 1 });
    expect(sent.extract).toHaveLength(1);
  });

  it("the delays grow with each automatic re-queue; with the budget used up the ERROR is recorded and the owner notified once", async () => {
    const { userId } = await signUp("transient-budget");
    const videoId = await insertVideo(userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1 });
    const { deps, sent } = recordingDeps();
    for (let attempt = 1; attempt <= MAX_TRANSIENT_RETRIES; attempt++) {
      const outcome = await recordEvent(deps, extractJob, processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId, userId, attempt }, STORAGE_DOWN));
      expect(outcome.result).toBe("requeued");
    }
    const delays = sent.extract.map((s) => s.options!.delaySeconds!);
    expect(delays).toHaveLength(MAX_TRANSIENT_RETRIES);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]! * 1.5);
    expect(delays.at(-1)).toBeLessThanOrEqual(TRANSIENT_RETRY_BACKOFF.max * 1.2 + 1);
    expect(await row(videoId)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: MAX_TRANSIENT_RETRIES + 1, recoveries: MAX_TRANSIENT_RETRIES });
    expect(sent.email).toEqual([]);

    const last = MAX_TRANSIENT_RETRIES + 1;
    const outcome = await recordEvent(deps, extractJob, processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId, userId, attempt: last }, STORAGE_DOWN));
    expect(outcome.result).toBe("applied");
    expect(await row(videoId)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_ERROR", attempt: last, errorMessage: STORAGE_DOWN.errorMessage });
    expect(sent.extract).toHaveLength(MAX_TRANSIENT_RETRIES);
    expect(sent.email).toHaveLength(1);
    expect((sent.email[0]!.body as { type: string }).type).toBe("MSG_SEND_SNAPSHOT_EXTRACTION_ERROR");
  });

  it("a permanent ERROR (no retryable flag) is recorded at once, with the email", async () => {
    const { userId } = await signUp("permanent");
    const videoId = await insertVideo(userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1 });
    const { deps, sent } = recordingDeps();
    const outcome = await recordEvent(deps, extractJob, processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId, userId, attempt: 1 }));
    expect(outcome.result).toBe("applied");
    expect(await row(videoId)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_ERROR", attempt: 1, recoveries: 0 });
    expect(sent.extract).toEqual([]);
    expect(sent.email).toHaveLength(1);
  });

  it("a failed job send restores the attempt and throws, so the event is retried", async () => {
    const { userId } = await signUp("transient-send");
    const videoId = await insertVideo(userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1 });
    const deps = testDeps();
    const down = { send: () => Promise.reject(new Error("queue down")) } as unknown as Queue<never>;
    const err = await recordEvent({ ...deps, env: { ...testEnv, EXTRACT_QUEUE: down } }, extractJob, processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId, userId, attempt: 1 }, STORAGE_DOWN)).catch((e: unknown) => e);
    expect((err as Error).name).toBe("QueueSendError");
    expect(await row(videoId)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1, recoveries: 0 });
  });
});
