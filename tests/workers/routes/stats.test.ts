/**
 * `GET /v1/stats` on a fixture of videos in every state, inserted directly in D1 (support/env.ts
 * `insertVideo` + updates), and the nearest-rank percentile it uses.
 */
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Stats } from "../../../schema/api.ts";
import { videos } from "../../../schema/db.ts";
import type { VideoStatus } from "../../../schema/video-status.ts";
import { nearestRank } from "../../../edge-api/src/services/stats/get-stats.ts";
import { api, db, insertVideo, signUp } from "../support/env.ts";

type User = Awaited<ReturnType<typeof signUp>>;

/** Inserts a video of `user` in `status` with the given facts. */
async function video(
  user: User,
  status: VideoStatus,
  facts: { sizeBytes: number; imageCount?: number; zipSizeBytes?: number; processingSeconds?: number; startedAt?: boolean },
): Promise<string> {
  const id = await insertVideo(user.userId, { status });
  const completedAt = new Date(Date.now() - 60_000);
  const finished = status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" || status === "VIDEO_IMAGE_EXTRACTION_ERROR";
  await db
    .update(videos)
    .set({
      sizeBytes: facts.sizeBytes,
      imageCount: facts.imageCount ?? null,
      zipSizeBytes: facts.zipSizeBytes ?? null,
      completedAt: finished ? completedAt : null,
      processingStartedAt:
        facts.startedAt === false
          ? null
          : finished
            ? new Date(completedAt.getTime() - (facts.processingSeconds ?? 1) * 1000)
            : status === "VIDEO_IMAGE_EXTRACTION_PROCESSING"
              ? new Date()
              : null,
    })
    .where(eq(videos.id, id));
  return id;
}

async function stats(user: User): Promise<Stats> {
  const res = await api("/v1/stats", { token: user.token });
  expect(res.status).toBe(200);
  return res.json();
}

describe("GET /v1/stats", () => {
  let user: User;
  let other: User;
  beforeAll(async () => {
    user = await signUp("stats");
    other = await signUp("stats-other");
    await video(user, "VIDEO_UPLOAD_PENDING", { sizeBytes: 1_000 });
    await video(user, "VIDEO_IMAGE_EXTRACTION_QUEUED", { sizeBytes: 2_000 });
    await video(user, "VIDEO_IMAGE_EXTRACTION_PROCESSING", { sizeBytes: 3_000 });
    const successes: [number, number, number][] = [
      // [images, zip bytes, processing seconds]
      [5, 100, 3],
      [6, 200, 1],
      [7, 300, 10],
      [8, 400, 2],
    ];
    for (const [imageCount, zipSizeBytes, processingSeconds] of successes) {
      await video(user, "VIDEO_IMAGE_EXTRACTION_SUCCESS", { sizeBytes: 4_000, imageCount, zipSizeBytes, processingSeconds });
    }
    // A success without a recorded processing start counts everywhere but in the durations.
    await video(user, "VIDEO_IMAGE_EXTRACTION_SUCCESS", { sizeBytes: 4_000, imageCount: 1, zipSizeBytes: 50, startedAt: false });
    await video(user, "VIDEO_IMAGE_EXTRACTION_ERROR", { sizeBytes: 5_000, processingSeconds: 99 });
    // Another user's videos are not counted.
    await video(other, "VIDEO_IMAGE_EXTRACTION_SUCCESS", { sizeBytes: 777_777, imageCount: 99, zipSizeBytes: 9_999, processingSeconds: 500 });
  });

  it("counts by status, success rate, median/p95 processing time, images and bytes of the caller only", async () => {
    expect(await stats(user)).toEqual({
      videosByStatus: {
        VIDEO_UPLOAD_PENDING: 1,
        VIDEO_IMAGE_EXTRACTION_QUEUED: 1,
        VIDEO_IMAGE_EXTRACTION_PROCESSING: 1,
        VIDEO_IMAGE_EXTRACTION_SUCCESS: 5,
        VIDEO_IMAGE_EXTRACTION_ERROR: 1,
        VIDEO_IMPORT_QUEUED: 0,
        VIDEO_IMPORTING: 0,
        VIDEO_IMPORT_ERROR: 0,
        VIDEO_GENERATION_PENDING: 0,
        VIDEO_GENERATION_ERROR: 0,
      },
      totalVideos: 9,
      successRate: 5 / 6,
      // Durations of succeeded videos [1, 2, 3, 10] s: nearest rank ⌈0.5·4⌉ = 2nd, ⌈0.95·4⌉ = 4th.
      processingSeconds: { median: 2, p95: 10, sampleSize: 4 },
      imagesProduced: 5 + 6 + 7 + 8 + 1,
      // Transcodes are counted in tests/workers/routes/transcodes.test.ts.
      transcodesByStatus: { TRANSCODE_PENDING: 0, TRANSCODE_QUEUED: 0, TRANSCODE_PROCESSING: 0, TRANSCODE_SUCCESS: 0, TRANSCODE_ERROR: 0 },
      totalTranscodes: 0,
      // Uploads past VIDEO_UPLOAD_PENDING: 2000 + 3000 + 5·4000 + 5000; archives of the successes.
      bytesStored: { videos: 30_000, archives: 1_050, total: 31_050 },
    });
    expect((await stats(other)).videosByStatus.VIDEO_IMAGE_EXTRACTION_SUCCESS).toBe(1);
  });

  it("a user without videos gets every status at 0 and nulls where nothing can be measured", async () => {
    const fresh = await signUp("stats-empty");
    expect(await stats(fresh)).toEqual({
      videosByStatus: {
        VIDEO_UPLOAD_PENDING: 0,
        VIDEO_IMAGE_EXTRACTION_QUEUED: 0,
        VIDEO_IMAGE_EXTRACTION_PROCESSING: 0,
        VIDEO_IMAGE_EXTRACTION_SUCCESS: 0,
        VIDEO_IMAGE_EXTRACTION_ERROR: 0,
        VIDEO_IMPORT_QUEUED: 0,
        VIDEO_IMPORTING: 0,
        VIDEO_IMPORT_ERROR: 0,
        VIDEO_GENERATION_PENDING: 0,
        VIDEO_GENERATION_ERROR: 0,
      },
      totalVideos: 0,
      successRate: null,
      processingSeconds: { median: null, p95: null, sampleSize: 0 },
      imagesProduced: 0,
      transcodesByStatus: { TRANSCODE_PENDING: 0, TRANSCODE_QUEUED: 0, TRANSCODE_PROCESSING: 0, TRANSCODE_SUCCESS: 0, TRANSCODE_ERROR: 0 },
      totalTranscodes: 0,
      bytesStored: { videos: 0, archives: 0, total: 0 },
    });
  });

  it("needs authentication and is in the OpenAPI document", async () => {
    expect((await api("/v1/stats")).status).toBe(401);
    const doc = (await (await api("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths["/v1/stats"]).toHaveProperty("get");
  });

  it("nearest-rank percentiles", () => {
    expect(nearestRank([], 0.5)).toBeNull();
    expect(nearestRank([7], 0.95)).toBe(7);
    expect(nearestRank([1, 2, 3], 0.5)).toBe(2);
    expect(nearestRank([1, 2, 3, 4], 0.5)).toBe(2);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRank(hundred, 0.5)).toBe(50);
    expect(nearestRank(hundred, 0.95)).toBe(95);
    expect(nearestRank(hundred, 1)).toBe(100);
  });
});
