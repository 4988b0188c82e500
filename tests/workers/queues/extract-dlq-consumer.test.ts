/**
 * The extraction dead-letter queue (vidsnap-extract-dlq): a job that used up its deliveries fails its video
 * with the error email, without calling the processor, and only while that attempt is still in flight.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { videos } from "../../../schema/db.ts";
import { EXHAUSTED_ERROR_MESSAGE } from "../../../edge-api/src/queues/extract-dlq-consumer.ts";
import { api, db, emailsFor, eventually, extractJobMessage, insertVideo, processorJobs, runQueue, signUp } from "../support/env.ts";

const row = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0];

/** Gives the email queue time to deliver anything that was (wrongly) sent. */
const settle = () => new Promise((r) => setTimeout(r, 400));

let alice: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  alice = await signUp("alice-dlq");
});

describe("extraction dead-letter queue (vidsnap-extract-dlq)", () => {
  const job = (videoId: string, attempt = 1) => extractJobMessage({ videoId, userId: alice.userId, attempt });

  it.each(["VIDEO_IMAGE_EXTRACTION_QUEUED", "VIDEO_IMAGE_EXTRACTION_PROCESSING"] as const)(
    "a dead-lettered job of a %s video → ERROR with the error email, without calling the processor",
    async (status) => {
      const id = await insertVideo(alice.userId, { status, attempt: 1, filename: "stuck.mp4" });
      const result = await runQueue("vidsnap-extract-dlq", [job(id)]);
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toHaveLength(1);

      const failed = (await row(id))!;
      expect(failed).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_ERROR", attempt: 1, errorMessage: EXHAUSTED_ERROR_MESSAGE });
      expect(failed.completedAt).not.toBeNull();
      expect(await processorJobs(id)).toEqual([]);
      const email = await eventually(async () => (await emailsFor(id))[0]);
      expect(email).toMatchObject({
        type: "MSG_SEND_SNAPSHOT_EXTRACTION_ERROR",
        payload: { videoId: id, attempt: 1, to: alice.email, filename: "stuck.mp4", errorMessage: EXHAUSTED_ERROR_MESSAGE },
      });

      const api404 = await api(`/v1/videos/${id}`, { token: alice.token });
      expect(((await api404.json()) as { video: { status: string } }).video.status).toBe("VIDEO_IMAGE_EXTRACTION_ERROR");
    },
  );

  it("changes nothing for a finished video, another attempt, or a deleted video; invalid messages are acked", async () => {
    const done = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", attempt: 1 });
    const moved = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 2 });
    const before = [await row(done), await row(moved)];
    const missing = crypto.randomUUID();
    const result = await runQueue("vidsnap-extract-dlq", [
      job(done),
      job(moved, 1),
      job(missing),
      { type: "MSG_EXTRACT_SNAPSHOT", payload: { videoId: done } },
      { type: "MSG_EXTRACT_SNAPSHOT_SUCCESS", payload: {} },
      "not an envelope",
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(6);
    expect([await row(done), await row(moved)]).toEqual(before);
    await settle();
    for (const id of [done, moved, missing]) expect(await emailsFor(id)).toEqual([]);
  });
});
