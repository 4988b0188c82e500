/**
 * The transcode job kind on the shared lifecycle: its events (through the Worker's queue() handler, as they
 * arrive on vidsnap-events) applied once and in any order, progress never going back, one outcome
 * notification per (transcode, attempt, outcome) attempt, webhooks `transcode.ready` / `transcode.failed`,
 * the dead-letter and lease paths, and deletion (records, objects, processor cancel).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { transcodes, webhookDeliveries } from "../../../schema/db.ts";
import {
  transcodeErrorMessage,
  transcodeMessage,
  transcodeProcessingMessage,
  transcodeProgressMessage,
  transcodeSuccessMessage,
  type TranscodeOutput,
} from "../../../schema/messages/index.ts";
import { s3Uri, transcodeAttemptPrefix } from "../../../schema/object-keys.ts";
import type { TranscodeStatus } from "../../../schema/transcode-status.ts";
import { expireStaleUploads } from "../../../edge-api/src/lifecycle/expire-stale-uploads.ts";
import { recoverExpiredLeases } from "../../../edge-api/src/lifecycle/leases.ts";
import { transcodeJob } from "../../../edge-api/src/lifecycle/transcode-job.ts";
import { SAMPLE_SOURCE_FACTS } from "../fixtures.ts";
import { api, db, emailsForTranscode, eventually, insertVideo, processorCancels, processorInstances, runQueue, setScenario, signUp, testDeps } from "../support/env.ts";
import { createEndpoint, hookUrl, received } from "../support/webhooks.ts";

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
beforeAll(async () => {
  alice = await signUp("alice");
});

const REQUEST = { renditions: [{ format: "mp4" as const, height: 360 as const }] };

/** Inserts a transcode row of a new completed video. */
async function insertTranscode(user: User, fields: { status?: TranscodeStatus; attempt?: number; leaseExpiresAt?: Date; recoveries?: number } = {}) {
  const videoId = await insertVideo(user.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS" });
  const id = crypto.randomUUID();
  await db.insert(transcodes).values({
    id,
    userId: user.userId,
    videoId,
    status: fields.status ?? "TRANSCODE_QUEUED",
    request: REQUEST,
    attempt: fields.attempt ?? 1,
    recoveries: fields.recoveries ?? 0,
    leaseExpiresAt: fields.leaseExpiresAt ?? new Date(Date.now() + 600_000),
  });
  return { id, videoId, ref: { transcodeId: id, videoId, userId: user.userId, attempt: fields.attempt ?? 1 } };
}

const row = async (id: string) => (await db.select().from(transcodes).where(eq(transcodes.id, id)))[0];

function output(ref: { transcodeId: string; videoId: string; userId: string; attempt: number }): TranscodeOutput {
  const key = `${transcodeAttemptPrefix(ref.userId, ref.videoId, ref.transcodeId, ref.attempt)}mp4-360.mp4`;
  return { rendition: "mp4-360", format: "mp4", contentType: "video/mp4", uri: s3Uri("vidsnap-videos", key), sizeBytes: 1000, width: 640, height: 360, durationSeconds: 12.5, bitrateKbps: 640, hasAudio: true };
}

const success = (ref: Parameters<typeof output>[0]) =>
  transcodeSuccessMessage({ ...ref, outputs: [output(ref)], source: SAMPLE_SOURCE_FACTS, elapsedSeconds: 3, speed: 4.2 });

describe("transcode events on vidsnap-events", () => {
  it("moves QUEUED → PROCESSING → SUCCESS; progress never goes back and speed/ETA follow the newest fraction", async () => {
    const t = await insertTranscode(alice);
    expect((await runQueue("vidsnap-events", [transcodeProcessingMessage(t.ref)])).explicitAcks).toHaveLength(1);
    expect(await row(t.id)).toMatchObject({ status: "TRANSCODE_PROCESSING", progress: null });
    await runQueue("vidsnap-events", [transcodeProgressMessage({ ...t.ref, fraction: 0.6, speed: 2, etaSeconds: 8 })]);
    // An older PROGRESS arriving late changes nothing it reports.
    await runQueue("vidsnap-events", [transcodeProgressMessage({ ...t.ref, fraction: 0.3, speed: 1, etaSeconds: 30 })]);
    expect(await row(t.id)).toMatchObject({ status: "TRANSCODE_PROCESSING", progress: 0.6, speed: 2, etaSeconds: 8 });
    await runQueue("vidsnap-events", [transcodeProgressMessage({ ...t.ref, fraction: 0.9, speed: 2.5, etaSeconds: 1 })]);
    expect(await row(t.id)).toMatchObject({ progress: 0.9, speed: 2.5, etaSeconds: 1 });

    await runQueue("vidsnap-events", [success(t.ref)]);
    const done = await row(t.id);
    expect(done).toMatchObject({ status: "TRANSCODE_SUCCESS", progress: 1, speed: 4.2, etaSeconds: null, elapsedSeconds: 3, leaseExpiresAt: null });
    expect(done!.outputs).toEqual([output(t.ref)]);
    // Late PROCESSING/PROGRESS after the end, and an ERROR of the same attempt: nothing changes.
    await runQueue("vidsnap-events", [
      transcodeProcessingMessage(t.ref),
      transcodeProgressMessage({ ...t.ref, fraction: 0.95, speed: 9, etaSeconds: 0 }),
      transcodeErrorMessage({ ...t.ref, errorMessage: "late", errorDescription: "" }),
    ]);
    expect(await row(t.id)).toMatchObject({ status: "TRANSCODE_SUCCESS", progress: 1, speed: 4.2, errorMessage: null });
  });

  it("ignores events of another attempt and notifies a redelivered SUCCESS again (one email per attempt and outcome downstream)", async () => {
    const t = await insertTranscode(alice, { attempt: 2 });
    await runQueue("vidsnap-events", [success({ ...t.ref, attempt: 1 }), transcodeErrorMessage({ ...t.ref, attempt: 3, errorMessage: "x", errorDescription: "" })]);
    expect(await row(t.id)).toMatchObject({ status: "TRANSCODE_QUEUED", attempt: 2 });
    await runQueue("vidsnap-events", [success(t.ref)]);
    await runQueue("vidsnap-events", [success(t.ref)]);
    const emails = await eventually(async () => {
      const got = await emailsForTranscode(t.id);
      return got.length >= 2 ? got : undefined;
    });
    // The same message twice: the email consumer's (video, job, attempt, outcome) row sends it once (tests/email).
    expect(emails.map((e) => `${e.type}:${e.payload.attempt}`)).toEqual(["MSG_SEND_TRANSCODE_SUCCESS:2", "MSG_SEND_TRANSCODE_SUCCESS:2"]);
    // Both name the same (transcode, attempt, outcome): the email consumer's key (links are signed afresh).
    expect(emails.map((e) => [e.payload.videoId, e.payload.transcodeId, e.payload.attempt])).toEqual([
      [t.videoId, t.id, 2],
      [t.videoId, t.id, 2],
    ]);
  });

  it("drops an output outside the transcode's prefix from a SUCCESS", async () => {
    const t = await insertTranscode(alice);
    const foreign = { ...output(t.ref), uri: s3Uri("vidsnap-videos", `users/${alice.userId}/videos/${t.videoId}/source`) };
    await runQueue("vidsnap-events", [transcodeSuccessMessage({ ...t.ref, outputs: [foreign, output(t.ref)], source: SAMPLE_SOURCE_FACTS, elapsedSeconds: 1, speed: 1 })]);
    expect((await row(t.id))!.outputs).toEqual([output(t.ref)]);
  });

  it("fires transcode.ready and transcode.failed webhooks once per attempt", async () => {
    const user = await signUp("hooked");
    const key = `transcode-${crypto.randomUUID()}`;
    const endpoint = await createEndpoint(user, { url: hookUrl(key), events: ["transcode.ready", "transcode.failed"] });
    const ok = await insertTranscode(user);
    const bad = await insertTranscode(user);
    await runQueue("vidsnap-events", [success(ok.ref), success(ok.ref), transcodeErrorMessage({ ...bad.ref, errorMessage: "No video stream.", errorDescription: "audio only" })]);
    const got = await eventually(async () => {
      const r = await received(key);
      return r.length >= 2 ? r : undefined;
    });
    const bodies = got.map((r) => JSON.parse(r.body) as { type: string; data: { transcode: { id: string; status: string; outputs: unknown[] }; video: { id: string } } });
    expect(bodies.map((b) => `${b.type}:${b.data.transcode.id}`).sort()).toEqual([`transcode.failed:${bad.id}`, `transcode.ready:${ok.id}`].sort());
    const ready = bodies.find((b) => b.type === "transcode.ready")!;
    expect(ready.data.video.id).toBe(ok.videoId);
    expect(ready.data.transcode).toMatchObject({ status: "TRANSCODE_SUCCESS", outputs: [{ rendition: "mp4-360" }] });
    const rows = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.webhook.id));
    expect(rows.map((r) => r.jobId).sort()).toEqual([ok.id, bad.id].sort());
    const list = await api(`/v1/webhooks/${endpoint.webhook.id}/deliveries`, { token: user.token });
    expect(((await list.json()) as { data: { transcodeId: string }[] }).data.map((d) => d.transcodeId).sort()).toEqual([ok.id, bad.id].sort());
  });
});

describe("dead letters and leases", () => {
  it("fails a transcode whose job was dead-lettered, with the error email", async () => {
    const t = await insertTranscode(alice);
    await runQueue("vidsnap-transcode-dlq", [transcodeMessage({ ...t.ref, transcode: REQUEST })]);
    expect(await row(t.id)).toMatchObject({ status: "TRANSCODE_ERROR", errorMessage: "The video could not be transcoded after several attempts" });
    await eventually(async () => (await emailsForTranscode(t.id)).some((e) => e.type === "MSG_SEND_TRANSCODE_ERROR"));
  });

  it("re-queues an attempt whose lease expired, then fails it after MAX_JOB_RECOVERIES", async () => {
    const deps = testDeps();
    const requeue = await insertTranscode(alice, { status: "TRANSCODE_PROCESSING", leaseExpiresAt: new Date(Date.now() - 1000) });
    await setScenario(requeue.id, "stall");
    const giveUp = await insertTranscode(alice, { status: "TRANSCODE_PROCESSING", leaseExpiresAt: new Date(Date.now() - 1000), recoveries: 2 });
    await recoverExpiredLeases(deps, transcodeJob, { now: new Date() });
    expect(await row(requeue.id)).toMatchObject({ status: "TRANSCODE_QUEUED", attempt: 2, recoveries: 1 });
    expect(await row(giveUp.id)).toMatchObject({ status: "TRANSCODE_ERROR", errorMessage: "Processing stopped responding", attempt: 1 });
    // Stop the re-queued job the stand-in is running (it stalls): delete the transcode.
    await eventually(async () => (await row(requeue.id))!.status === "TRANSCODE_PROCESSING");
    expect((await api(`/v1/videos/${requeue.videoId}/transcodes/${requeue.id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    expect(await processorCancels(requeue.id)).toBe(1);
  });
});

describe("routing around a busy instance", () => {
  it("a transcode started on another instance than its home is cancelled there", async () => {
    const t = await insertTranscode(alice);
    await setScenario(t.id, "busy-first");
    await runQueue("vidsnap-transcode", [transcodeMessage({ ...t.ref, transcode: REQUEST })]);
    await eventually(async () => (await row(t.id))!.status === "TRANSCODE_PROCESSING");
    expect((await api(`/v1/videos/${t.videoId}/transcodes/${t.id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    const { jobs, cancels } = await processorInstances(t.id);
    expect(jobs).toHaveLength(2);
    expect(jobs[1]).not.toBe(jobs[0]);
    expect(cancels).toEqual([jobs[1]]);
    expect(await processorCancels(t.id)).toBe(1);
  });
});

describe("deleting the video", () => {
  it("deletes its transcodes and their objects, and cancels a running transcode in the processor", async () => {
    const videoId = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS" });
    const running = crypto.randomUUID();
    await setScenario(running, "stall");
    const create = async () => {
      const res = await api(`/v1/videos/${videoId}/transcodes`, { method: "POST", token: alice.token, json: REQUEST });
      return ((await res.json()) as { transcode: { id: string } }).transcode.id;
    };
    const finished = await create();
    await eventually(async () => (await row(finished))?.status === "TRANSCODE_SUCCESS");
    await db.insert(transcodes).values({ id: running, userId: alice.userId, videoId, status: "TRANSCODE_PENDING", request: REQUEST, attempt: 0 });
    expect((await api(`/v1/videos/${videoId}/complete`, { method: "POST", token: alice.token })).status).toBe(202);
    await eventually(async () => (await row(running))?.status === "TRANSCODE_PROCESSING");

    const deps = testDeps();
    const prefix = `users/${alice.userId}/videos/${videoId}/transcodes/`;
    expect((await deps.storage.listKeys("vidsnap-videos", prefix)).length).toBeGreaterThan(0);
    expect((await api(`/v1/videos/${videoId}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    expect(await db.select().from(transcodes).where(and(eq(transcodes.videoId, videoId)))).toEqual([]);
    expect(await deps.storage.listKeys("vidsnap-videos", prefix)).toEqual([]);
    expect(await processorCancels(running)).toBe(1);
    expect(await processorCancels(finished)).toBe(0);
  });

  it("an upload that expires takes its waiting transcodes with it (foreign key cascade)", async () => {
    const old = new Date(Date.now() - 2 * 86_400_000);
    const videoId = await insertVideo(alice.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0, createdAt: old });
    const id = crypto.randomUUID();
    await db.insert(transcodes).values({ id, userId: alice.userId, videoId, status: "TRANSCODE_PENDING", request: REQUEST, attempt: 0 });
    const result = await expireStaleUploads(testDeps(), { now: new Date() });
    expect(result.expired).toBeGreaterThanOrEqual(1);
    expect(await row(id)).toBeUndefined();
  });

  it("discards the outputs of a late SUCCESS of a deleted transcode, files and HLS segments alike", async () => {
    const t = await insertTranscode(alice);
    const deps = testDeps();
    const prefix = transcodeAttemptPrefix(alice.userId, t.videoId, t.id, 1);
    const put = (key: string) => deps.storage.presignPut({ bucket: "vidsnap-videos", key, contentType: "video/mp4", contentLength: 3, ttlSeconds: 60 });
    for (const key of [`${prefix}mp4-360.mp4`, `${prefix}hls/360/seg-00001.m4s`]) {
      const signed = await put(key);
      expect((await fetch(signed.url, { method: "PUT", headers: signed.headers, body: "abc" })).status).toBe(200);
    }
    await db.delete(transcodes).where(eq(transcodes.id, t.id));
    await runQueue("vidsnap-events", [success(t.ref)]);
    expect(await deps.storage.listKeys("vidsnap-videos", prefix)).toEqual([]);
  });
});
