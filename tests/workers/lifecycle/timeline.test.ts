/**
 * The timeline of a video (docs/architecture.md "Timeline"; edge-api/src/lifecycle/timeline.ts, `GET
 * /v1/videos/{id}/events`): a whole life through the API, the real queues and the stand-in processor records
 * exactly its status changes with their sources; duplicate, late and out-of-order processor events record
 * nothing more; the cron's lease recovery and give-up are recorded as `cron`; a transient fault as a
 * re-queue; pages follow each other without gaps; another user's video is 404.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { CreateVideoResponse, Problem, Transcode, Video, VideoEvent, VideoEventList } from "../../../schema/api.ts";
import { videoEvents, videos } from "../../../schema/db.ts";
import { extractSnapshotProgressMessage } from "../../../schema/messages/index.ts";
import { expireStaleUploads } from "../../../edge-api/src/lifecycle/expire-stale-uploads.ts";
import { extractJob } from "../../../edge-api/src/lifecycle/extract-job.ts";
import { LEASE_EXPIRED_ERROR_MESSAGE, recoverExpiredLeases } from "../../../edge-api/src/lifecycle/leases.ts";
import { api, db, eventually, insertVideo, processorEvent, runQueue, setScenario, signUp, testDeps } from "../support/env.ts";

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let bob: User;
beforeAll(async () => {
  alice = await signUp("alice");
  bob = await signUp("bob");
});

/** Gives the queues time to deliver anything that was (wrongly) sent. */
const settle = () => new Promise((r) => setTimeout(r, 500));

/** Every page of a video's timeline (`limit` per page), oldest first, checking each page's order. */
async function timeline(user: User, videoId: string, limit = 100): Promise<VideoEvent[]> {
  const all: VideoEvent[] = [];
  let cursor: string | null = null;
  do {
    const res = await api(`/v1/videos/${videoId}/events?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, { token: user.token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as VideoEventList;
    expect(page.data.length).toBeLessThanOrEqual(limit);
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return all.reverse();
}

/** The part of an event a test pins. */
const brief = (e: VideoEvent) => ({ job: e.jobKind, attempt: e.attempt, from: e.fromStatus, to: e.toStatus, source: e.source, ...(e.message ? { message: e.message } : {}) });

async function videoOf(user: User, id: string): Promise<Video> {
  return ((await (await api(`/v1/videos/${id}`, { token: user.token })).json()) as { video: Video }).video;
}

describe("a video's life in its timeline", () => {
  it("create → complete → PROCESSING → ERROR → retry → SUCCESS, with a transcode run and deleted: exactly these events, in order", async () => {
    const res = await api("/v1/videos", {
      method: "POST",
      token: alice.token,
      json: { filename: "life.mp4", contentType: "video/mp4", sizeBytes: 16, transcode: { renditions: [{ format: "mp4", height: 240 }] } },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as CreateVideoResponse;
    const id = created.video.id;
    const tid = created.transcode!.id;
    await setScenario(id, "error");
    const upload = created.upload;
    if (upload.method !== "PUT") throw new Error("expected a single PUT");
    const put = await fetch(upload.url, { method: "PUT", headers: { "content-type": upload.headers["content-type"] }, body: new Uint8Array(16) });
    expect(put.status).toBe(200);

    expect((await api(`/v1/videos/${id}/complete`, { method: "POST", token: alice.token })).status).toBe(202);
    await eventually(async () => (await videoOf(alice, id)).status === "VIDEO_IMAGE_EXTRACTION_ERROR");
    // A second complete changes nothing, so it records nothing.
    expect((await api(`/v1/videos/${id}/complete`, { method: "POST", token: alice.token })).status).toBe(202);
    await setScenario(id, "success");
    expect((await api(`/v1/videos/${id}/retry`, { method: "POST", token: alice.token })).status).toBe(202);
    await eventually(async () => (await videoOf(alice, id)).status === "VIDEO_IMAGE_EXTRACTION_SUCCESS");
    await eventually(async () => {
      const t = (await (await api(`/v1/videos/${id}/transcodes/${tid}`, { token: alice.token })).json()) as { transcode: Transcode };
      return t.transcode.status === "TRANSCODE_SUCCESS";
    });
    expect((await api(`/v1/videos/${id}/transcodes/${tid}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    await settle();

    const events = await timeline(alice, id, 3);
    // One order for the whole timeline: oldest first is (createdAt, id) ascending.
    for (let i = 1; i < events.length; i++) {
      const [a, b] = [events[i - 1]!, events[i]!];
      expect(a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id)).toBe(true);
    }
    expect(brief(events[0]!)).toEqual({ job: "video", attempt: 0, from: null, to: "VIDEO_UPLOAD_PENDING", source: "user" });
    expect(events.filter((e) => e.jobKind === "video")).toHaveLength(1);
    expect(events.filter((e) => e.jobKind === "extract").map(brief)).toEqual([
      { job: "extract", attempt: 1, from: "VIDEO_UPLOAD_PENDING", to: "VIDEO_IMAGE_EXTRACTION_QUEUED", source: "user" },
      { job: "extract", attempt: 1, from: "VIDEO_IMAGE_EXTRACTION_QUEUED", to: "VIDEO_IMAGE_EXTRACTION_PROCESSING", source: "processor" },
      {
        job: "extract",
        attempt: 1,
        from: "VIDEO_IMAGE_EXTRACTION_PROCESSING",
        to: "VIDEO_IMAGE_EXTRACTION_ERROR",
        source: "processor",
        message: "The file is not a video we can read.",
      },
      { job: "extract", attempt: 2, from: "VIDEO_IMAGE_EXTRACTION_ERROR", to: "VIDEO_IMAGE_EXTRACTION_QUEUED", source: "user" },
      { job: "extract", attempt: 2, from: "VIDEO_IMAGE_EXTRACTION_QUEUED", to: "VIDEO_IMAGE_EXTRACTION_PROCESSING", source: "processor" },
      { job: "extract", attempt: 2, from: "VIDEO_IMAGE_EXTRACTION_PROCESSING", to: "VIDEO_IMAGE_EXTRACTION_SUCCESS", source: "processor" },
    ]);
    const ofTranscode = events.filter((e) => e.jobKind === "transcode");
    expect(ofTranscode.every((e) => e.jobId === tid)).toBe(true);
    expect(ofTranscode.map(brief)).toEqual([
      { job: "transcode", attempt: 0, from: null, to: "TRANSCODE_PENDING", source: "user" },
      { job: "transcode", attempt: 1, from: "TRANSCODE_PENDING", to: "TRANSCODE_QUEUED", source: "user" },
      { job: "transcode", attempt: 1, from: "TRANSCODE_QUEUED", to: "TRANSCODE_PROCESSING", source: "processor" },
      { job: "transcode", attempt: 1, from: "TRANSCODE_PROCESSING", to: "TRANSCODE_SUCCESS", source: "processor" },
      { job: "transcode", attempt: 1, from: "TRANSCODE_SUCCESS", to: "TRANSCODE_DELETED", source: "user" },
    ]);
    expect(events).toHaveLength(1 + 6 + 5);

    // The video's deletion takes its timeline with it.
    expect((await api(`/v1/videos/${id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    expect(await db.select().from(videoEvents).where(eq(videoEvents.videoId, id))).toEqual([]);
    expect((await api(`/v1/videos/${id}/events`, { token: alice.token })).status).toBe(404);
  });
});

describe("expiry", () => {
  it("a stale upload's expiry deletes its timeline with the record", async () => {
    const res = await api("/v1/videos", { method: "POST", token: alice.token, json: { filename: "stale.mp4", contentType: "video/mp4", sizeBytes: 16 } });
    const id = ((await res.json()) as CreateVideoResponse).video.id;
    expect((await timeline(alice, id)).map(brief)).toEqual([{ job: "video", attempt: 0, from: null, to: "VIDEO_UPLOAD_PENDING", source: "user" }]);
    const deps = testDeps();
    await db.update(videos).set({ createdAt: new Date(Date.now() - (deps.config.uploadPendingTtlSeconds + 60) * 1000) }).where(eq(videos.id, id));
    expect((await expireStaleUploads(deps, { now: new Date() })).expired).toBeGreaterThanOrEqual(1);
    expect(await db.select().from(videoEvents).where(eq(videoEvents.videoId, id))).toEqual([]);
  });
});

describe("what records nothing", () => {
  it("duplicate, late and out-of-order processor events add nothing beyond the two changes", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1 });
    const ref = { videoId: id, userId: alice.userId, attempt: 1 };
    const progress = (fraction: number) => extractSnapshotProgressMessage({ ...ref, fraction, imagesSoFar: 1 });
    // PROGRESS before PROCESSING (queue order is not guaranteed), then duplicates of each.
    await runQueue("vidsnap-events", [progress(0.3)]);
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref), progress(0.2), progress(0.3)]);
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref)]);
    // Another attempt's events change nothing.
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { ...ref, attempt: 2 })]);
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref)]);
    // Redelivered SUCCESS, late PROCESSING/PROGRESS and an ERROR after the end.
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref)]);
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref), progress(0.9)]);
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", ref)]);
    expect((await db.select().from(videos).where(eq(videos.id, id)))[0]!.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect((await timeline(alice, id)).map(brief)).toEqual([
      { job: "extract", attempt: 1, from: "VIDEO_IMAGE_EXTRACTION_QUEUED", to: "VIDEO_IMAGE_EXTRACTION_PROCESSING", source: "processor" },
      { job: "extract", attempt: 1, from: "VIDEO_IMAGE_EXTRACTION_PROCESSING", to: "VIDEO_IMAGE_EXTRACTION_SUCCESS", source: "processor" },
    ]);
  });

  it("a retry refused (409, not in ERROR) records nothing", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", attempt: 1 });
    expect((await api(`/v1/videos/${id}/retry`, { method: "POST", token: alice.token })).status).toBe(409);
    expect(await timeline(alice, id)).toEqual([]);
  });
});

describe("automatic moves", () => {
  it("the cron's lease recovery is recorded with source cron (a queued attempt too), and so is its give-up", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1 });
    // The re-queued job reaches a processor that answers 409: nothing else moves the video meanwhile.
    await setScenario(id, "duplicate");
    const expire = (fields: Partial<typeof videos.$inferInsert> = {}) =>
      db.update(videos).set({ leaseExpiresAt: new Date(Date.now() - 1000), ...fields }).where(eq(videos.id, id));
    const deps = testDeps();

    await expire();
    expect((await recoverExpiredLeases(deps, extractJob, { now: new Date() })).requeued).toBeGreaterThanOrEqual(1);
    await expire();
    expect((await recoverExpiredLeases(deps, extractJob, { now: new Date() })).requeued).toBeGreaterThanOrEqual(1);
    await expire();
    expect((await recoverExpiredLeases(deps, extractJob, { now: new Date() })).failed).toBeGreaterThanOrEqual(1);
    await settle();

    expect((await timeline(alice, id)).map(brief)).toEqual([
      {
        job: "extract",
        attempt: 2,
        from: "VIDEO_IMAGE_EXTRACTION_PROCESSING",
        to: "VIDEO_IMAGE_EXTRACTION_QUEUED",
        source: "cron",
        message: "Recovered after an expired lease (recovery 1 of 2).",
      },
      {
        job: "extract",
        attempt: 3,
        from: "VIDEO_IMAGE_EXTRACTION_QUEUED",
        to: "VIDEO_IMAGE_EXTRACTION_QUEUED",
        source: "cron",
        message: "Recovered after an expired lease (recovery 2 of 2).",
      },
      { job: "extract", attempt: 3, from: "VIDEO_IMAGE_EXTRACTION_QUEUED", to: "VIDEO_IMAGE_EXTRACTION_ERROR", source: "cron", message: LEASE_EXPIRED_ERROR_MESSAGE },
    ]);
  });

  it("a transient fault re-queues the attempt, recorded with its reason; its redelivery records nothing", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1 });
    await setScenario(id, "duplicate");
    const fault = processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId: id, userId: alice.userId, attempt: 1 }, { errorMessage: "The storage is unavailable.", retryable: true });
    await runQueue("vidsnap-events", [fault]);
    await runQueue("vidsnap-events", [fault]);
    const events = await timeline(alice, id);
    expect(events.map((e) => ({ ...brief(e), message: undefined }))).toEqual([
      { job: "extract", attempt: 2, from: "VIDEO_IMAGE_EXTRACTION_PROCESSING", to: "VIDEO_IMAGE_EXTRACTION_QUEUED", source: "processor", message: undefined },
    ]);
    expect(events[0]!.message).toMatch(/^Transient fault, retried in \d+ s: The storage is unavailable\.$/);
  });
});

describe("GET /v1/videos/{id}/events", () => {
  it("pages newest first without gaps or repeats, and refuses a forged cursor", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1 });
    // Nine rows in the same millisecond: the id orders them.
    const at = new Date();
    await db.insert(videoEvents).values(
      Array.from({ length: 9 }, (_, i) => ({
        userId: alice.userId,
        videoId: id,
        jobKind: "extract" as const,
        attempt: i + 1,
        fromStatus: "VIDEO_IMAGE_EXTRACTION_ERROR" as const,
        toStatus: "VIDEO_IMAGE_EXTRACTION_QUEUED" as const,
        source: "user" as const,
        createdAt: at,
      })),
    );
    const first = (await (await api(`/v1/videos/${id}/events?limit=4`, { token: alice.token })).json()) as VideoEventList;
    expect(first.data.map((e) => e.attempt)).toEqual([9, 8, 7, 6]);
    expect(first.nextCursor).toBeTruthy();
    expect((await timeline(alice, id, 4)).map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await timeline(alice, id, 9)).map((e) => e.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const forged = btoa(JSON.stringify({ c: at.getTime(), i: "1 OR 1=1" }));
    const bad = await api(`/v1/videos/${id}/events?cursor=${forged}`, { token: alice.token });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Problem).type).toMatch(/\/validation$/);
    expect((await api(`/v1/videos/${id}/events?limit=101`, { token: alice.token })).status).toBe(400);
  });

  it("another user's video is 404 and its events are never listed", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1 });
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", { videoId: id, userId: alice.userId, attempt: 1 })]);
    expect(await timeline(alice, id)).toHaveLength(1);
    const res = await api(`/v1/videos/${id}/events`, { token: bob.token });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await api(`/v1/videos/${id}/events`)).status).toBe(401);
  });
});
