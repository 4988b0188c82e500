/**
 * The events consumer (processor events → D1 state → email queue), driven by calling the Worker's
 * `queue()` with message batches; the resulting emails are observed on the real email queue.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { Video } from "../../../schema/api.ts";
import { videos } from "../../../schema/db.ts";
import { extractSnapshotProgressMessage } from "../../../schema/messages/index.ts";
import {
  api,
  db,
  emailsFor,
  eventually,
  insertVideo,
  putSource,
  processorEvent,
  processorJobs,
  runQueue,
  setScenario,
  signUp,
} from "../support/env.ts";

let owner: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  owner = await signUp("events");
});

const row = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0]!;
const ref = (videoId: string, attempt = 1) => ({ videoId, userId: owner.userId, attempt });
const allAcked = (result: Awaited<ReturnType<typeof runQueue>>, count: number) => {
  expect(result.retryMessages).toEqual([]);
  expect(result.explicitAcks).toHaveLength(count);
};

describe("events consumer", () => {
  it("QUEUED → PROCESSING (progress only rises) → SUCCESS, then the success email", async () => {
    const id = await insertVideo(owner.userId, { filename: "trip.mov" });

    allAcked(await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref(id))]), 1);
    const started = await row(id);
    expect(started.status).toBe("VIDEO_IMAGE_EXTRACTION_PROCESSING");
    expect(started.processingStartedAt).not.toBeNull();
    expect(started.progress).toBeNull();

    const progress = (fraction: number) =>
      processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref(id), { progress: { fraction, images: 1 } });
    allAcked(await runQueue("vidsnap-events", [progress(0.4), progress(0.2)]), 2);
    const running = await row(id);
    expect(running.progress).toBe(0.4);
    expect(running.processingStartedAt).toEqual(started.processingStartedAt);

    allAcked(await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref(id))]), 1);
    const done = await row(id);
    expect(done).toMatchObject({
      status: "VIDEO_IMAGE_EXTRACTION_SUCCESS",
      attempt: 1,
      progress: 1,
      imageCount: 2,
      zipSizeBytes: 4321,
      durationSeconds: 12.5,
      archiveKey: `users/${owner.userId}/videos/${id}/attempts/1/images.zip`,
      manifestKey: `users/${owner.userId}/videos/${id}/attempts/1/manifest.json`,
      errorMessage: null,
    });
    expect(done.completedAt).not.toBeNull();
    expect(done.processingStartedAt).toEqual(started.processingStartedAt);

    const [email] = await eventually(async () => {
      const found = await emailsFor(id);
      return found.length ? found : undefined;
    });
    expect(email).toMatchObject({
      type: "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS",
      payload: { videoId: id, attempt: 1, to: owner.email, filename: "trip.mov", imageCount: 2, zipSizeBytes: 4321 },
    });
    const link = new URL(email!.payload.downloadUrl as string);
    expect(link.pathname).toBe(`/vidsnap-images/users/${owner.userId}/videos/${id}/attempts/1/images.zip`);
    expect(link.searchParams.get("response-content-disposition")).toBe('attachment; filename="trip-images.zip"');
    expect(Date.parse(email!.payload.downloadUrlExpiresAt as string) - Date.now()).toBeGreaterThan(604_000_000);

    // A late PROCESSING event does not move a finished video back.
    allAcked(await runQueue("vidsnap-events", [progress(0.9)]), 1);
    expect((await row(id)).status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
  });

  it("PROGRESS: QUEUED → PROCESSING, progress and imagesSoFar only rise, the lease is renewed, GET shows both", async () => {
    const id = await insertVideo(owner.userId, { filename: "long.mp4" });
    const progress = (fraction: number, imagesSoFar: number, attempt = 1) =>
      extractSnapshotProgressMessage({ ...ref(id, attempt), fraction, imagesSoFar });
    // Queue order is not guaranteed: a PROGRESS may arrive before PROCESSING and still starts processing.
    allAcked(await runQueue("vidsnap-events", [progress(0.25, 3)]), 1);
    const first = await row(id);
    expect(first).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", progress: 0.25, imagesSoFar: 3 });
    expect(first.processingStartedAt).not.toBeNull();

    // The lease is renewed by PROGRESS alone (expired on purpose here).
    await db.update(videos).set({ leaseExpiresAt: new Date(Date.now() - 1000) }).where(eq(videos.id, id));
    allAcked(await runQueue("vidsnap-events", [progress(0.6, 7), progress(0.5, 6)]), 2);
    const running = await row(id);
    expect(running).toMatchObject({ progress: 0.6, imagesSoFar: 7 });
    expect(running.leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 60_000);

    const res = await api(`/v1/videos/${id}`, { token: owner.token });
    expect(res.status).toBe(200);
    const { video } = (await res.json()) as { video: Video };
    expect(video).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", progress: 0.6, imagesSoFar: 7 });

    // Another attempt's PROGRESS changes nothing.
    allAcked(await runQueue("vidsnap-events", [progress(0.9, 9, 2)]), 1);
    expect(await row(id)).toMatchObject({ progress: 0.6, imagesSoFar: 7 });

    allAcked(await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref(id))]), 1);
    const done = await row(id);
    expect(done).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", progress: 1, imagesSoFar: 2, leaseExpiresAt: null });
    // A late PROGRESS after the final state changes nothing (no status, progress or lease change).
    allAcked(await runQueue("vidsnap-events", [progress(0.95, 10)]), 1);
    expect(await row(id)).toEqual(done);
    const emails = await eventually(async () => {
      const found = await emailsFor(id);
      return found.length ? found : undefined;
    });
    // PROGRESS never sends an email: only the SUCCESS one.
    expect(emails.map((e) => e.type)).toEqual(["MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS"]);
  });

  it("a duplicate SUCCESS changes nothing but re-sends the email; a late ERROR is ignored", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING" });
    const success = processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref(id));
    allAcked(await runQueue("vidsnap-events", [success]), 1);
    const first = await row(id);
    allAcked(await runQueue("vidsnap-events", [success]), 1);
    expect(await row(id)).toEqual(first);
    allAcked(await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", ref(id))]), 1);
    expect(await row(id)).toEqual(first);

    const emails = await eventually(async () => {
      const found = await emailsFor(id);
      return found.length >= 2 ? found : undefined;
    });
    expect(emails.map((e) => [e.type, e.payload.attempt])).toEqual([
      ["MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS", 1],
      ["MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS", 1],
    ]);
  });

  it("events of another attempt change nothing", async () => {
    const id = await insertVideo(owner.userId, { attempt: 2 });
    const before = await row(id);
    allAcked(
      await runQueue("vidsnap-events", [
        processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref(id, 1), { progress: { fraction: 0.5, images: 3 } }),
        processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref(id, 1)),
        processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", ref(id, 1)),
        processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref(id, 3)),
      ]),
      4,
    );
    expect(await row(id)).toEqual(before);
    // Another user's id in the event: nothing either.
    allAcked(await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: id, userId: "intruder", attempt: 2 })]), 1);
    expect(await row(id)).toEqual(before);
  });

  it("ERROR stores the error and emails it; retry then queues attempt 2 and stale attempt-1 events are ignored", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING" });
    allAcked(
      await runQueue("vidsnap-events", [
        processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", ref(id), { errorMessage: "No video stream.", errorDescription: "0 streams" }),
      ]),
      1,
    );
    const failed = await row(id);
    expect(failed).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_ERROR", errorMessage: "No video stream.", errorDescription: "0 streams" });
    expect(failed.completedAt).not.toBeNull();
    const errorEmail = await eventually(async () => (await emailsFor(id))[0]);
    expect(errorEmail).toMatchObject({
      type: "MSG_SEND_SNAPSHOT_EXTRACTION_ERROR",
      payload: { videoId: id, attempt: 1, errorMessage: "No video stream.", errorDescription: "0 streams" },
    });

    // The retried job is refused as "already running" by the stand-in, so the video stays queued.
    await setScenario(id, "duplicate");
    await putSource(owner.userId, id); // a retry checks the uploaded object again
    const res = await api(`/v1/videos/${id}/retry`, { method: "POST", token: owner.token });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { video: Video }).video).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2 });
    const queued = await row(id);
    expect(queued).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2, errorMessage: null, completedAt: null, processingStartedAt: null });
    const jobs = (await eventually(async () => {
      const found = await processorJobs(id);
      return found.length ? found : undefined;
    })) as { payload: { attempt: number } }[];
    expect(jobs.map((j) => j.payload.attempt)).toEqual([2]);

    allAcked(
      await runQueue("vidsnap-events", [
        processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref(id, 1)),
        processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", ref(id, 1)),
      ]),
      2,
    );
    expect(await row(id)).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2 });

    // A second retry while queued is a conflict.
    expect((await api(`/v1/videos/${id}/retry`, { method: "POST", token: owner.token })).status).toBe(409);
  });

  it("invalid or unknown messages are acked and change nothing", async () => {
    const id = await insertVideo(owner.userId);
    const before = await row(id);
    const result = await runQueue("vidsnap-events", [
      { type: "MSG_EXTRACT_SNAPSHOT_SUCCESS", payload: { videoId: id } },
      { ...processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref(id)), sender: "VIDEO_API_SERVICE" },
      { type: "MSG_SOMETHING_ELSE" },
      "not an envelope",
      null,
      processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref(crypto.randomUUID())),
    ]);
    allAcked(result, 6);
    expect(await row(id)).toEqual(before);
  });
});
