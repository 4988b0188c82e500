/**
 * The end of a video's life, against the real S3 server: `DELETE /v1/videos/{id}` (objects really gone,
 * owner scoping, deleting while queued or processing and the late events that follow), and the
 * cron (`scheduled()`): stale uploads expire in bounded batches, and object deletions a storage failure
 * left behind are retried.
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Problem } from "../../../schema/api.ts";
import { videoDeletions, videos } from "../../../schema/db.ts";
import { archiveObjectKey, manifestObjectKey, sourceObjectKey } from "../../../schema/object-keys.ts";
import type { Deps } from "../../../edge-api/src/context.ts";
import { loadConfig } from "../../../edge-api/src/env.ts";
import worker from "../../../edge-api/src/index.ts";
import { deleteVideo } from "../../../edge-api/src/lifecycle/delete-video.ts";
import { expireStaleUploads } from "../../../edge-api/src/lifecycle/expire-stale-uploads.ts";
import { videoObjects } from "../../../edge-api/src/lifecycle/purge-video-objects.ts";
import { S3Storage, StorageError } from "../../../edge-api/src/storage/s3.ts";
import {
  api,
  checkConfig,
  db,
  emailsFor,
  extractJobMessage,
  insertVideo,
  processorEvent,
  processorJobs,
  runQueue,
  signUp,
  testDeps,
  testEnv,
} from "../support/env.ts";

const config = loadConfig(testEnv);
const storage = new S3Storage(config.s3);
const deps = (overrides: Partial<Deps> = {}): Deps => ({ ...testDeps(), ...overrides });

const VIDEOS = config.videosBucket;
const IMAGES = config.imagesBucket;
const HOUR_MS = 3_600_000;

const row = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0];
const tombstone = async (id: string) => (await db.select().from(videoDeletions).where(eq(videoDeletions.videoId, id)))[0];

/** Writes an object into the S3 server through a presigned PUT (as a client or the processor would). */
async function putObject(bucket: string, key: string, text = "bytes") {
  const body = new TextEncoder().encode(text);
  const signed = await storage.presignPut({ bucket, key, contentType: "application/octet-stream", contentLength: body.byteLength, ttlSeconds: 60 });
  const res = await fetch(signed.url, { method: "PUT", headers: signed.headers, body });
  expect(res.status).toBe(200);
}

/** True when HEAD of the object answers 404 on the S3 server. */
const gone = async (bucket: string, key: string) => (await storage.headObject(bucket, key)) === null;

/** Source, and archive + manifest of attempts 1..attempts, written to the S3 server. */
async function putVideoObjects(userId: string, videoId: string, attempts: number) {
  const keys: [string, string][] = [[VIDEOS, sourceObjectKey(userId, videoId)]];
  for (let a = 1; a <= attempts; a++) {
    keys.push([IMAGES, archiveObjectKey(userId, videoId, a)], [IMAGES, manifestObjectKey(userId, videoId, a)]);
  }
  for (const [bucket, key] of keys) await putObject(bucket, key);
  return keys;
}

async function expectProblem(res: Response, status: number, kind: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Problem;
  expect(body).toMatchObject({ type: `https://vidsnap.dev/problems/${kind}`, status });
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
}

/** Gives the email queue time to deliver anything that was (wrongly) sent. */
const settle = () => new Promise((r) => setTimeout(r, 400));

let alice: Awaited<ReturnType<typeof signUp>>;
let bob: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  alice = await signUp("alice-lifecycle");
  bob = await signUp("bob-lifecycle");
});

describe("DELETE /v1/videos/{id}", () => {
  it("removes the record, the source and the archive + manifest of every attempt (204); again → 404", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", attempt: 2 });
    const keys = await putVideoObjects(alice.userId, id, 2);
    for (const [bucket, key] of keys) expect(await gone(bucket, key)).toBe(false);

    const res = await api(`/v1/videos/${id}`, { method: "DELETE", token: alice.token });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");

    expect(await row(id)).toBeUndefined();
    expect(await tombstone(id)).toBeUndefined();
    for (const [bucket, key] of keys) expect(await gone(bucket, key), key).toBe(true);
    await expectProblem(await api(`/v1/videos/${id}`, { token: alice.token }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${id}`, { method: "DELETE", token: alice.token }), 404, "not-found");
  });

  it("deletes a pending video whose upload never came (missing objects are fine)", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    expect((await api(`/v1/videos/${id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    expect(await row(id)).toBeUndefined();
    expect(await tombstone(id)).toBeUndefined();
  });

  it("without a token → 401; another user's video → 404 and nothing is deleted", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", attempt: 1 });
    const keys = await putVideoObjects(alice.userId, id, 1);
    await expectProblem(await api(`/v1/videos/${id}`, { method: "DELETE" }), 401, "unauthorized");
    await expectProblem(await api(`/v1/videos/${id}`, { method: "DELETE", token: bob.token }), 404, "not-found");
    expect((await row(id))?.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    for (const [bucket, key] of keys) expect(await gone(bucket, key)).toBe(false);
  });

  it.each(["VIDEO_IMAGE_EXTRACTION_QUEUED", "VIDEO_IMAGE_EXTRACTION_PROCESSING"] as const)(
    "deleted while %s: the late PROCESSING/SUCCESS change nothing, send no email, and the archive it wrote is removed",
    async (status) => {
      const id = await insertVideo(alice.userId, { status, attempt: 1 });
      await putObject(VIDEOS, sourceObjectKey(alice.userId, id));
      expect((await api(`/v1/videos/${id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
      expect(await row(id)).toBeUndefined();

      // The processor was still running: it writes its output after the deletion, then reports.
      const ref = { videoId: id, userId: alice.userId, attempt: 1 };
      await putObject(IMAGES, archiveObjectKey(alice.userId, id, 1), "zip");
      await putObject(IMAGES, manifestObjectKey(alice.userId, id, 1), "{}");
      const result = await runQueue("vidsnap-events", [
        processorEvent("MSG_EXTRACT_SNAPSHOT_PROCESSING", ref, { progress: { fraction: 0.5, images: 1 } }),
        processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", ref),
      ]);
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toHaveLength(2);

      expect(await row(id)).toBeUndefined();
      expect(await gone(IMAGES, archiveObjectKey(alice.userId, id, 1))).toBe(true);
      expect(await gone(IMAGES, manifestObjectKey(alice.userId, id, 1))).toBe(true);
      expect(await gone(VIDEOS, sourceObjectKey(alice.userId, id))).toBe(true);
      await settle();
      expect(await emailsFor(id)).toEqual([]);
    },
  );

  it("a late ERROR of a deleted video is acked, sends no email; the extraction job of a deleted video is skipped", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1 });
    expect((await api(`/v1/videos/${id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    const ref = { videoId: id, userId: alice.userId, attempt: 1 };
    const events = await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", ref)]);
    expect(events.retryMessages).toEqual([]);
    const job = extractJobMessage(ref);
    const jobs = await runQueue("vidsnap-extract", [job]);
    expect(jobs.retryMessages).toEqual([]);
    expect(await processorJobs(id)).toEqual([]);
    await settle();
    expect(await emailsFor(id)).toEqual([]);
  });

  it("a late SUCCESS of a superseded attempt deletes only that attempt's output; never the source, the current attempt, or outside the video's prefix", async () => {
    // The record is at attempt 2 (the cron re-queued attempt 1): attempt 1's late SUCCESS is ignored, and the
    // archive it stored is an orphan nobody can download, so it is deleted. The source and attempt 2 stay.
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2 });
    const [source, ...outputs] = await putVideoObjects(alice.userId, id, 2);
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: id, userId: alice.userId, attempt: 1 })]);
    expect((await row(id))?.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(await gone(...source!)).toBe(false);
    const [archive1, manifest1, archive2, manifest2] = outputs;
    expect(await gone(...archive1!)).toBe(true);
    expect(await gone(...manifest1!)).toBe(true);
    expect(await gone(...archive2!)).toBe(false);
    expect(await gone(...manifest2!)).toBe(false);

    // A SUCCESS of a missing video pointing at another (existing) video's objects: left alone.
    const kept = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", attempt: 1 });
    const keys = await putVideoObjects(alice.userId, kept, 1);
    const other = crypto.randomUUID();
    const result = await runQueue("vidsnap-events", [
      processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: other, userId: alice.userId, attempt: 1 }, {
        archiveUri: `s3://${IMAGES}/${archiveObjectKey(alice.userId, kept, 1)}`,
        manifestUri: `s3://${IMAGES}/${manifestObjectKey(alice.userId, kept, 1)}`,
      }),
    ]);
    expect(result.retryMessages).toEqual([]);
    for (const [bucket, key] of keys) expect(await gone(bucket, key)).toBe(false);
  });

  it("when the storage fails, the record is still deleted and the cron sweep removes the objects later", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_ERROR", attempt: 1 });
    const keys = await putVideoObjects(alice.userId, id, 1);
    const failing = Object.assign(Object.create(storage) as S3Storage, {
      deleteObject: async () => {
        throw new StorageError("storage down", 503);
      },
    });
    await deleteVideo(deps({ storage: failing }), alice.userId, id);
    expect(await row(id)).toBeUndefined();
    expect(await tombstone(id)).toMatchObject({ userId: alice.userId, attempt: 1, reason: "deleted", purgeFailures: 1 });
    for (const [bucket, key] of keys) expect(await gone(bucket, key)).toBe(false);

    // A run right away leaves young rows to their request; a run two minutes later purges them.
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), testEnv, ctx);
    expect(await tombstone(id)).toBeDefined();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now() + 120_000, cron: "*/15 * * * *" }), testEnv, ctx);
    expect(await tombstone(id)).toBeUndefined();
    for (const [bucket, key] of keys) expect(await gone(bucket, key), key).toBe(true);
  });

  it("videoObjects lists the source and every attempt's archive and manifest once", () => {
    const objects = videoObjects(config, {
      videoId: "v",
      userId: "u",
      attempt: 2,
      sourceKey: sourceObjectKey("u", "v"),
      archiveKey: archiveObjectKey("u", "v", 2),
      manifestKey: null,
    });
    expect(objects).toEqual([
      { bucket: VIDEOS, key: "users/u/videos/v/source" },
      { bucket: IMAGES, key: "users/u/videos/v/attempts/1/images.zip" },
      { bucket: IMAGES, key: "users/u/videos/v/attempts/1/manifest.json" },
      { bucket: IMAGES, key: "users/u/videos/v/attempts/2/images.zip" },
      { bucket: IMAGES, key: "users/u/videos/v/attempts/2/manifest.json" },
    ]);
  });
});

describe("cron: stale uploads expire", () => {
  const cron = (scheduledTime: number) =>
    worker.scheduled(createScheduledController({ scheduledTime, cron: "*/15 * * * *" }), testEnv, createExecutionContext());

  it("deletes pending videos older than UPLOAD_PENDING_TTL_SECONDS with their uploaded object, nothing else", async () => {
    expect(config.uploadPendingTtlSeconds).toBe(86_400);
    const now = Date.now();
    const stale = await insertVideo(alice.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0, createdAt: new Date(now - 25 * HOUR_MS) });
    const staleNoUpload = await insertVideo(bob.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0, createdAt: new Date(now - 48 * HOUR_MS) });
    const fresh = await insertVideo(alice.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0, createdAt: new Date(now - 23 * HOUR_MS) });
    const oldQueued = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1, createdAt: new Date(now - 72 * HOUR_MS) });
    for (const id of [stale, fresh, oldQueued]) await putObject(VIDEOS, sourceObjectKey(alice.userId, id));

    await cron(now);

    expect(await row(stale)).toBeUndefined();
    expect(await row(staleNoUpload)).toBeUndefined();
    expect(await gone(VIDEOS, sourceObjectKey(alice.userId, stale))).toBe(true);
    expect(await tombstone(stale)).toBeUndefined();
    expect(await tombstone(staleNoUpload)).toBeUndefined();
    expect((await row(fresh))?.status).toBe("VIDEO_UPLOAD_PENDING");
    expect((await row(oldQueued))?.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(await gone(VIDEOS, sourceObjectKey(alice.userId, fresh))).toBe(false);
    expect(await gone(VIDEOS, sourceObjectKey(alice.userId, oldQueued))).toBe(false);
    // The expired video is gone for its owner, and completing it now is a 404.
    await expectProblem(await api(`/v1/videos/${stale}/complete`, { method: "POST", token: alice.token }), 404, "not-found");

    // Two hours later the once-fresh upload is stale too.
    await cron(now + 2 * HOUR_MS);
    expect(await row(fresh)).toBeUndefined();
    expect(await gone(VIDEOS, sourceObjectKey(alice.userId, fresh))).toBe(true);
    expect((await row(oldQueued))?.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
  });

  it("works in bounded batches, oldest first", async () => {
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await insertVideo(alice.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0, createdAt: new Date(now - (100 - i) * HOUR_MS) }));
    }
    expect(await expireStaleUploads(deps(), { now: new Date(now), limit: 2 })).toEqual({ expired: 2, purgeFailed: 0 });
    expect(await row(ids[0]!)).toBeUndefined();
    expect(await row(ids[1]!)).toBeUndefined();
    expect(await row(ids[2]!)).toBeDefined();
    expect(await expireStaleUploads(deps(), { now: new Date(now), limit: 2 })).toEqual({ expired: 1, purgeFailed: 0 });
    expect(await row(ids[2]!)).toBeUndefined();
    expect(await expireStaleUploads(deps(), { now: new Date(now) })).toEqual({ expired: 0, purgeFailed: 0 });
  });

  it("validates UPLOAD_PENDING_TTL_SECONDS: a number of seconds above UPLOAD_URL_TTL_SECONDS", () => {
    const with_ = (value: string) => checkConfig({ ...testEnv, UPLOAD_PENDING_TTL_SECONDS: value });
    const ok = with_("3600");
    expect(ok.ok && ok.config.uploadPendingTtlSeconds).toBe(3600);
    const unset = with_("");
    expect(unset.ok && unset.config.uploadPendingTtlSeconds).toBe(86_400);
    for (const bad of ["600", "abc", "99999999"]) {
      const result = with_(bad);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.problems.join(";")).toContain("UPLOAD_PENDING_TTL_SECONDS");
    }
  });
});
