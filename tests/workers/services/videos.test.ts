/**
 * Paths the pipeline tests do not reach: an upload of another size, images from a manifest the test
 * writes into the real S3 server, a missing or invalid manifest (500 without internals), a path
 * parameter out of bounds, and the rollback when the extract queue refuses a message (fault injected
 * into the service's dependencies), which takes the change's timeline row with it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { ImageList, Problem } from "../../../schema/api.ts";
import { videoEvents, videos } from "../../../schema/db.ts";
import { ExtractSnapshotMessage } from "../../../schema/messages/extract-snapshot.ts";
import { archiveObjectKey, manifestObjectKey, sourceObjectKey } from "../../../schema/object-keys.ts";
import type { Deps } from "../../../edge-api/src/context.ts";
import { loadConfig } from "../../../edge-api/src/env.ts";
import { ProblemError } from "../../../edge-api/src/errors.ts";
import { completeUpload } from "../../../edge-api/src/services/videos/complete-upload.ts";
import { retryVideo } from "../../../edge-api/src/services/videos/retry-video.ts";
import { S3Storage } from "../../../edge-api/src/storage/s3.ts";
import { fakeManifest } from "../stand-in-processor.ts";
import { api, db, insertVideo, processorEvent, putObject, runQueue, signUp, testDeps, testEnv } from "../support/env.ts";

const config = loadConfig(testEnv);
const storage = new S3Storage(config.s3);
const row = async (id: string) => (await db.select().from(videos).where(eq(videos.id, id)))[0]!;
const timelineOf = async (id: string) => (await db.select().from(videoEvents).where(eq(videoEvents.videoId, id))).map((e) => `${e.fromStatus} → ${e.toStatus} #${e.attempt}`);


let owner: Awaited<ReturnType<typeof signUp>>;
beforeAll(async () => {
  owner = await signUp("services");
});

describe("upload checks", () => {
  it("an object of another size than declared → 409 upload-size-mismatch, still pending", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    // Declared 1000 bytes (insertVideo); 10 bytes land in the bucket.
    await putObject(config.videosBucket, sourceObjectKey(owner.userId, id), new Uint8Array(10), "video/mp4");
    const res = await api(`/v1/videos/${id}/complete`, { method: "POST", token: owner.token });
    expect(res.status).toBe(409);
    expect(((await res.json()) as Problem).type).toBe("https://vidsnap.dev/problems/upload-size-mismatch");
    expect(await row(id)).toMatchObject({ status: "VIDEO_UPLOAD_PENDING", attempt: 0, queuedAt: null });
  });

  it("complete records the source's ETag and the job message carries it, for the processor's If-Match reads", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    await putObject(config.videosBucket, sourceObjectKey(owner.userId, id), new Uint8Array(1000).fill(7), "video/mp4");
    const head = await storage.headObject(config.videosBucket, sourceObjectKey(owner.userId, id));
    expect(head?.etag).toMatch(/^"[0-9a-f]{32}"$/);
    const sent: unknown[] = [];
    const recording = { send: async (m: unknown) => void sent.push(m) } as unknown as Queue<never>;
    const video = await completeUpload({ ...testDeps(), env: { ...testEnv, EXTRACT_QUEUE: recording } }, owner.userId, id);
    expect(video.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(await row(id)).toMatchObject({ sourceEtag: head!.etag, attempt: 1 });
    expect(sent).toHaveLength(1);
    const message = ExtractSnapshotMessage.parse(sent[0]);
    expect(message.payload).toMatchObject({ videoId: id, attempt: 1, sourceEtag: head!.etag });
    // A job message queued before the field existed still parses (no condition on its reads).
    const { sourceEtag: _, ...old } = message.payload;
    expect(ExtractSnapshotMessage.safeParse({ ...message, payload: old }).success).toBe(true);
    // An ETag that could end a header line is refused by the schema.
    expect(ExtractSnapshotMessage.safeParse({ ...message, payload: { ...old, sourceEtag: '"x"\r\nX-Evil: 1' } }).success).toBe(false);
  });

  it("an id over 100 characters is a validation problem", async () => {
    const res = await api(`/v1/videos/${"x".repeat(101)}`, { token: owner.token });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).errors?.[0]?.path).toBe("id");
  });
});

describe("images of a finished video", () => {
  it("lists the manifest the storage holds and links a ZIP that downloads", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", filename: "cat.webm" });
    const zip = new TextEncoder().encode("PK\u0003\u0004 zip written by the test");
    await putObject(config.imagesBucket, archiveObjectKey(owner.userId, id, 1), zip, "application/zip");
    const manifest = new TextEncoder().encode(JSON.stringify(fakeManifest(id, 1)));
    await putObject(config.imagesBucket, manifestObjectKey(owner.userId, id, 1), manifest, "application/json");
    await runQueue("vidsnap-events", [
      processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId: id, userId: owner.userId, attempt: 1 }, { zipSizeBytes: zip.byteLength }),
    ]);

    const res = await api(`/v1/videos/${id}/images`, { token: owner.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const list = (await res.json()) as ImageList;
    expect(list).toMatchObject({ videoId: id, attempt: 1, imageCount: 2, zip: { sizeBytes: zip.byteLength } });
    expect(list.images[0]).toEqual(fakeManifest(id, 1).images[0]);
    const download = await fetch(list.zip.url);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toBe('attachment; filename="cat-images.zip"');
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(zip);

    // The presigned URL is bound to its signature: a changed disposition is refused.
    const tampered = new URL(list.zip.url);
    tampered.searchParams.set("response-content-disposition", 'attachment; filename="other.zip"');
    expect((await fetch(tampered)).status).toBe(403);
  });

  it("a missing or invalid manifest answers 500 internal without internals", async () => {
    const missing = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS" });
    const res = await api(`/v1/videos/${missing}/images`, { token: owner.token });
    expect(res.status).toBe(500);
    const body = (await res.json()) as Problem;
    expect(body).toMatchObject({ type: "https://vidsnap.dev/problems/internal", status: 500 });
    expect(JSON.stringify(body)).not.toContain("users/");

    const invalid = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS" });
    await putObject(config.imagesBucket, manifestObjectKey(owner.userId, invalid, 1), new TextEncoder().encode('{"version":2}'), "application/json");
    const res2 = await api(`/v1/videos/${invalid}/images`, { token: owner.token });
    expect(res2.status).toBe(500);
    expect(JSON.stringify(await res2.json())).not.toMatch(/ZodError|version/);
  });
});

describe("queue send failures roll back (fault injection)", () => {
  const failingDeps = (): Deps => {
    const deps = testDeps();
    const down = { send: () => Promise.reject(new Error("queue down")) } as unknown as Queue<never>;
    return { ...deps, env: { ...testEnv, EXTRACT_QUEUE: down } };
  };

  it("complete: 503 and the video is pending again", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    await putObject(config.videosBucket, sourceObjectKey(owner.userId, id), new Uint8Array(1000), "video/mp4");
    const err = await completeUpload(failingDeps(), owner.userId, id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect(err).toMatchObject({ kind: "service-unavailable", status: 503 });
    expect(await row(id)).toMatchObject({ status: "VIDEO_UPLOAD_PENDING", attempt: 0, queuedAt: null });
    expect(await timelineOf(id)).toEqual([]);
  });

  it("retry: 503 and the failed attempt is restored", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING" });
    await putObject(config.videosBucket, sourceObjectKey(owner.userId, id), new Uint8Array(1000), "video/mp4");
    await runQueue("vidsnap-events", [
      processorEvent("MSG_EXTRACT_SNAPSHOT_ERROR", { videoId: id, userId: owner.userId, attempt: 1 }),
    ]);
    const before = await row(id);
    expect(before.status).toBe("VIDEO_IMAGE_EXTRACTION_ERROR");
    const err = await retryVideo(failingDeps(), owner.userId, id).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "service-unavailable", status: 503 });
    const after = await row(id);
    // The retry recorded the object's ETag before the send failed; the attempt itself is restored.
    expect({ ...after, updatedAt: null, sourceEtag: null }).toEqual({ ...before, updatedAt: null, sourceEtag: null });
    expect(await timelineOf(id)).toEqual(["VIDEO_IMAGE_EXTRACTION_PROCESSING → VIDEO_IMAGE_EXTRACTION_ERROR #1"]);
  });

  it("retry checks the uploaded object again and records its current ETag (corrected bytes through the same URL)", async () => {
    const id = await insertVideo(owner.userId, { status: "VIDEO_IMAGE_EXTRACTION_ERROR" });
    const missing = await retryVideo(testDeps(), owner.userId, id).catch((e: unknown) => e);
    expect(missing).toMatchObject({ kind: "upload-incomplete", status: 409 });
    await putObject(config.videosBucket, sourceObjectKey(owner.userId, id), new Uint8Array(999), "video/mp4");
    const wrongSize = await retryVideo(testDeps(), owner.userId, id).catch((e: unknown) => e);
    expect(wrongSize).toMatchObject({ kind: "upload-size-mismatch", status: 409 });
    expect((await row(id)).status).toBe("VIDEO_IMAGE_EXTRACTION_ERROR");
    await putObject(config.videosBucket, sourceObjectKey(owner.userId, id), new Uint8Array(1000).fill(3), "video/mp4");
    const head = await storage.headObject(config.videosBucket, sourceObjectKey(owner.userId, id));
    const video = await retryVideo(testDeps(), owner.userId, id);
    expect(video).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 2 });
    expect((await row(id)).sourceEtag).toBe(head!.etag);
  });
});
