/**
 * Imports by URL end to end in workerd: `POST /v1/videos` with `source: {url}` (URL rules at once), the
 * vidsnap-import queue consumed by the Worker, the processor's object relaying the stand-in processor's
 * import events (./stand-in-import.ts stores a source in the real S3 server), then the path of `complete`:
 * extraction and the transcode asked with it. Failures: VIDEO_IMPORT_ERROR with its email and
 * `video.import_failed` webhook, retry, delete while importing (processor cancel), and the lifecycle's
 * guards (an event of another attempt, a late PROGRESS, a redelivered SUCCESS, the dead-letter queue).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { ImportVideoResponse, Problem, Video } from "../../../schema/api.ts";
import { videos } from "../../../schema/db.ts";
import { importVideoMessage, importVideoProgressMessage, importVideoSuccessMessage } from "../../../schema/messages/index.ts";
import { s3Uri, sourceObjectKey } from "../../../schema/object-keys.ts";
import { expireStaleUploads } from "../../../edge-api/src/lifecycle/expire-stale-uploads.ts";
import { importJob } from "../../../edge-api/src/lifecycle/import-job.ts";
import { recoverExpiredLeases } from "../../../edge-api/src/lifecycle/leases.ts";
import { IMPORTED_BYTES } from "../stand-in-import.ts";
import { api, db, emailsFor, eventually, processorCancels, processorJobs, runQueue, signUp, testDeps } from "../support/env.ts";
import { createEndpoint, hookUrl, received } from "../support/webhooks.ts";

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let bob: User;
beforeAll(async () => {
  alice = await signUp("alice", { verified: true });
  bob = await signUp("bob");
});

/** A URL of no real server: the stand-in processor reads only its path. */
const REMOTE = "http://127.0.0.1:9";

async function importVideo(user: User, body: Record<string, unknown>): Promise<ImportVideoResponse> {
  const res = await api("/v1/videos", { method: "POST", token: user.token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as ImportVideoResponse;
}

async function getVideo(user: User, id: string): Promise<Video> {
  const res = await api(`/v1/videos/${id}`, { token: user.token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { video: Video }).video;
}

const until = (user: User, id: string, status: Video["status"], timeoutMs = 15_000) =>
  eventually(async () => {
    const v = await getVideo(user, id);
    return v.status === status ? v : undefined;
  }, timeoutMs);

describe("POST /v1/videos with source.url", () => {
  it("answers 201 VIDEO_IMPORT_QUEUED, imports, then extracts and transcodes as after complete", async () => {
    const created = await importVideo(alice, {
      source: { url: `${REMOTE}/media/holiday%20clip.mp4?sig=secret#frag` },
      transcode: { renditions: [{ format: "mp4", height: 360 }] },
    });
    expect(created).not.toHaveProperty("upload");
    expect(created.video).toMatchObject({
      status: "VIDEO_IMPORT_QUEUED",
      attempt: 1,
      filename: "holiday clip.mp4",
      sourceUrl: `${REMOTE}/media/holiday%20clip.mp4?sig=secret`,
      importedBytes: null,
      importTotalBytes: null,
    });
    expect(created.transcode?.status).toBe("TRANSCODE_PENDING");

    const done = await until(alice, created.video.id, "VIDEO_IMAGE_EXTRACTION_SUCCESS");
    // Import attempt 1, extraction attempt 2 (one counter per video); the import's facts stay.
    expect(done).toMatchObject({ attempt: 2, sizeBytes: IMPORTED_BYTES, contentType: "video/mp4", importedBytes: IMPORTED_BYTES, importTotalBytes: IMPORTED_BYTES, imageCount: 2 });
    const jobs = (await processorJobs(created.video.id)) as { type: string; payload: { attempt: number; url?: string; maxBytes?: number } }[];
    expect(jobs.map((j) => [j.type, j.payload.attempt])).toEqual([
      ["MSG_IMPORT_VIDEO", 1],
      ["MSG_EXTRACT_SNAPSHOT", 2],
    ]);
    expect(jobs[0]!.payload).toMatchObject({ url: `${REMOTE}/media/holiday%20clip.mp4?sig=secret`, maxBytes: 104857600 });
    const [row] = await db.select().from(videos).where(eq(videos.id, created.video.id));
    expect(row!.sourceEtag).toBeTruthy();

    const transcode = await eventually(async () => {
      const res = await api(`/v1/videos/${created.video.id}/transcodes/${created.transcode!.id}`, { token: alice.token });
      const t = ((await res.json()) as { transcode: { status: string } }).transcode;
      return t.status === "TRANSCODE_SUCCESS" ? t : undefined;
    });
    expect(transcode.status).toBe("TRANSCODE_SUCCESS");

    // The timeline tells the import, then the extraction it started (oldest first).
    const res = await api(`/v1/videos/${created.video.id}/events?limit=100`, { token: alice.token });
    const events = ((await res.json()) as { data: { jobKind: string; fromStatus: string | null; toStatus: string; attempt: number; source: string }[] }).data
      .filter((e) => e.jobKind !== "transcode")
      .reverse()
      .map((e) => [e.jobKind, e.fromStatus, e.toStatus, e.attempt, e.source]);
    expect(events).toEqual([
      ["import", null, "VIDEO_IMPORT_QUEUED", 0, "user"],
      ["import", "VIDEO_IMPORT_QUEUED", "VIDEO_IMPORTING", 1, "processor"],
      ["import", "VIDEO_IMPORTING", "VIDEO_UPLOAD_PENDING", 1, "processor"],
      ["extract", "VIDEO_UPLOAD_PENDING", "VIDEO_IMAGE_EXTRACTION_QUEUED", 2, expect.any(String)],
      ["extract", "VIDEO_IMAGE_EXTRACTION_QUEUED", "VIDEO_IMAGE_EXTRACTION_PROCESSING", 2, "processor"],
      ["extract", "VIDEO_IMAGE_EXTRACTION_PROCESSING", "VIDEO_IMAGE_EXTRACTION_SUCCESS", 2, "processor"],
    ]);
  });

  it("fails VIDEO_IMPORT_ERROR with the processor's message, an import error email and a video.import_failed webhook; retry imports again", async () => {
    const hook = crypto.randomUUID();
    await createEndpoint(alice, { url: hookUrl(hook), events: ["video.import_failed"] });
    const created = await importVideo(alice, { source: { url: `${REMOTE}/status/404/missing.mp4` } });
    const failed = await until(alice, created.video.id, "VIDEO_IMPORT_ERROR");
    expect(failed).toMatchObject({ attempt: 1, errorMessage: "The URL answered HTTP 404 Not Found, not a video." });

    const emails = await eventually(async () => {
      const e = await emailsFor(created.video.id);
      return e.length > 0 ? e : undefined;
    });
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      type: "MSG_SEND_VIDEO_IMPORT_ERROR",
      payload: { attempt: 1, sourceUrl: `${REMOTE}/status/404/missing.mp4`, errorMessage: "The URL answered HTTP 404 Not Found, not a video." },
    });
    const hooks = await eventually(async () => {
      const r = await received(hook);
      return r.length > 0 ? r : undefined;
    });
    expect(JSON.parse(String(hooks[0]!.body))).toMatchObject({ type: "video.import_failed", data: { video: { id: created.video.id, status: "VIDEO_IMPORT_ERROR" } } });

    const retried = await api(`/v1/videos/${created.video.id}/retry`, { method: "POST", token: alice.token });
    expect(retried.status).toBe(202);
    expect(((await retried.json()) as { video: Video }).video).toMatchObject({ status: "VIDEO_IMPORT_QUEUED", attempt: 2, errorMessage: null });
    await eventually(async () => {
      const v = await getVideo(alice, created.video.id);
      return v.status === "VIDEO_IMPORT_ERROR" && v.attempt === 2 ? v : undefined;
    });
    // One email per attempt.
    await eventually(async () => ((await emailsFor(created.video.id)).length === 2 ? true : undefined));
  });

  it("refuses a URL against the outgoing-URL rules at once: 400 naming source.url, nothing stored", async () => {
    const before = (await db.select({ id: videos.id }).from(videos).where(eq(videos.userId, bob.userId))).length;
    for (const [url, reason] of [
      ["http://10.0.0.1/v.mp4", "must not point to private addresses"],
      ["http://[::ffff:169.254.169.254]/latest", "must not point to cloud metadata addresses"],
      ["file:///etc/passwd", "must use http or https"],
      ["http://user:pw@example.com/v.mp4", "must not contain a user name or password"],
      ["not a url", "must be an absolute URL"],
    ] as const) {
      const res = await api("/v1/videos", { method: "POST", token: bob.token, json: { source: { url } } });
      expect(res.status, url).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await res.json()) as Problem;
      expect(problem).toMatchObject({ type: "https://vidsnap.dev/problems/validation", errors: [{ path: "source.url", message: reason }] });
    }
    const after = (await db.select({ id: videos.id }).from(videos).where(eq(videos.userId, bob.userId))).length;
    expect(after).toBe(before);
  });

  it("refuses a body mixing an upload and a source, or a source without url", async () => {
    for (const json of [{ source: {} }, { source: { url: `${REMOTE}/x.mp4` }, sizeBytes: 5, contentType: "video/mp4" }]) {
      const res = await api("/v1/videos", { method: "POST", token: bob.token, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
    }
  });

  it("a transcode asked while the import runs waits, and /complete starts nothing before the source is stored", async () => {
    const created = await importVideo(bob, { source: { url: `${REMOTE}/stall/long.mp4` } });
    await until(bob, created.video.id, "VIDEO_IMPORTING");
    const asked = await api(`/v1/videos/${created.video.id}/transcodes`, { method: "POST", token: bob.token, json: { renditions: [{ format: "mp4", height: 360 }] } });
    expect(asked.status).toBe(202);
    const { transcode } = (await asked.json()) as { transcode: { id: string; status: string } };
    expect(transcode.status).toBe("TRANSCODE_PENDING");
    const completed = await api(`/v1/videos/${created.video.id}/complete`, { method: "POST", token: bob.token, json: {} });
    expect(((await completed.json()) as { video: Video }).video.status).toBe("VIDEO_IMPORTING");
    const again = await api(`/v1/videos/${created.video.id}/transcodes/${transcode.id}`, { token: bob.token });
    expect(((await again.json()) as { transcode: { status: string } }).transcode.status).toBe("TRANSCODE_PENDING");
    expect(await processorJobs(transcode.id)).toEqual([]);
    await api(`/v1/videos/${created.video.id}`, { method: "DELETE", token: bob.token });
  });

  it("deleting a video while it imports cancels the processor's job", async () => {
    const created = await importVideo(bob, { source: { url: `${REMOTE}/stall/big.mp4` } });
    await until(bob, created.video.id, "VIDEO_IMPORTING");
    const res = await api(`/v1/videos/${created.video.id}`, { method: "DELETE", token: bob.token });
    expect(res.status).toBe(204);
    expect(await processorCancels(created.video.id)).toBe(1);
    expect((await api(`/v1/videos/${created.video.id}`, { token: bob.token })).status).toBe(404);
  });
});

describe("import lifecycle guards", () => {
  /** A video in VIDEO_IMPORTING at attempt 1 (its import message already handled by the test itself). */
  async function importing(user: User, fields: { leaseExpiresAt?: Date; status?: Video["status"]; createdAt?: Date } = {}) {
    const id = crypto.randomUUID();
    const now = new Date();
    await db.insert(videos).values({
      id,
      userId: user.userId,
      filename: "x.mp4",
      contentType: "application/octet-stream",
      sizeBytes: 0,
      status: fields.status ?? "VIDEO_IMPORTING",
      options: { mode: "keyframes" },
      attempt: 1,
      sourceKey: sourceObjectKey(user.userId, id),
      sourceUrl: `${REMOTE}/stall/x.mp4`,
      leaseExpiresAt: fields.leaseExpiresAt ?? new Date(now.getTime() + 600_000),
      createdAt: fields.createdAt ?? now,
      updatedAt: now,
    });
    return { id, ref: { videoId: id, userId: user.userId, attempt: 1 } };
  }
  const row = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0]!;

  it("PROGRESS raises importedBytes and the fraction, never down; an event of another attempt changes nothing", async () => {
    const v = await importing(bob);
    await runQueue("vidsnap-events", [importVideoProgressMessage({ ...v.ref, importedBytes: 600, totalBytes: 1000, fraction: 0.6 })]);
    await runQueue("vidsnap-events", [importVideoProgressMessage({ ...v.ref, importedBytes: 300, totalBytes: 1000, fraction: 0.3 })]);
    await runQueue("vidsnap-events", [importVideoProgressMessage({ ...v.ref, attempt: 2, importedBytes: 900, totalBytes: 1000, fraction: 0.9 })]);
    expect(await row(v.id)).toMatchObject({ status: "VIDEO_IMPORTING", importedBytes: 600, importTotalBytes: 1000, progress: 0.6 });
  });

  it("a SUCCESS without its stored source is retried (the event is not lost), and the dead-letter queue fails an import", async () => {
    const v = await importing(bob);
    const success = importVideoSuccessMessage({ ...v.ref, sourceUri: s3Uri("vidsnap-videos", sourceObjectKey(bob.userId, v.id)), sizeBytes: 1000, contentType: "video/mp4" });
    // No object stored: the path of `complete` refuses (upload-incomplete) and the event is retried.
    const outcome = await runQueue("vidsnap-events", [success]);
    expect(outcome.retryMessages).toHaveLength(1);
    expect(await row(v.id)).toMatchObject({ status: "VIDEO_UPLOAD_PENDING", sizeBytes: 1000 });

    const w = await importing(bob);
    await runQueue("vidsnap-import-dlq", [importVideoMessage({ ...w.ref, url: `${REMOTE}/x.mp4`, maxBytes: 1000 })]);
    expect(await row(w.id)).toMatchObject({ status: "VIDEO_IMPORT_ERROR", errorMessage: "The video could not be imported after several attempts" });
  });

  it("the lease sweep re-queues an import whose processor went silent (a new attempt of the import)", async () => {
    const v = await importing(bob, { leaseExpiresAt: new Date(Date.now() - 1000) });
    const result = await recoverExpiredLeases(testDeps(), importJob, { now: new Date() });
    expect(result.requeued).toBeGreaterThanOrEqual(1);
    expect(await row(v.id)).toMatchObject({ status: "VIDEO_IMPORT_QUEUED", attempt: 2, recoveries: 1 });
  });

  it("the stale-upload expiry leaves an imported video on its way to the extraction alone", async () => {
    const v = await importing(bob, { status: "VIDEO_UPLOAD_PENDING", createdAt: new Date(Date.now() - 30 * 86_400_000) });
    await expireStaleUploads(testDeps(), { now: new Date() });
    expect(await row(v.id)).toMatchObject({ status: "VIDEO_UPLOAD_PENDING" });
  });
});
