/**
 * The `/v1/videos` REST API end to end in workerd: better-auth tokens, D1, presigned uploads to the real
 * S3 server, the extract queue consumed by the Worker itself and the stand-in processor, images and ZIP.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { CreateVideoResponse as AnyCreateVideoResponse, ImageList, Problem, UploadInstructions, Video, VideoList } from "../../../schema/api.ts";
/** Files here are below MULTIPART_THRESHOLD_BYTES: the API answers a single presigned PUT. */
type CreateVideoResponse = AnyCreateVideoResponse & { upload: UploadInstructions };
import { videos } from "../../../schema/db.ts";
import { fakeZipBytes } from "../stand-in-processor.ts";
import {
  api,
  db,
  emailsFor,
  eventually,
  insertVideo,
  processorJobs,
  setScenario,
  signUp,
} from "../support/env.ts";

const PROBLEM = "https://vidsnap.dev/problems/";

async function expectProblem(res: Response, status: number, kind: string): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Problem;
  expect(body).toMatchObject({ type: PROBLEM + kind, status });
  expect(body.title).toBeTruthy();
  expect(body.detail).toBeTruthy();
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
  expect(JSON.stringify(body)).not.toMatch(/\bat .+:\d+:\d+/); // no stack frames
  return body;
}

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

async function createVideo(token: string, input: Record<string, unknown> = {}) {
  const res = await api("/v1/videos", {
    method: "POST",
    token,
    json: { filename: "holiday.mp4", contentType: "video/mp4", sizeBytes: 64, ...input },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as CreateVideoResponse;
}

async function upload(created: CreateVideoResponse, body: Uint8Array, headers?: Record<string, string>) {
  return fetch(created.upload.url, {
    method: "PUT",
    headers: headers ?? { "content-type": created.upload.headers["content-type"] },
    body,
  });
}

let alice: Awaited<ReturnType<typeof signUp>>;
let bob: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  alice = await signUp("alice");
  bob = await signUp("bob");
});

describe("authentication of /v1", () => {
  const routes: [string, string][] = [
    ["GET", "/v1/videos"],
    ["POST", "/v1/videos"],
    ["GET", "/v1/videos/x"],
    ["POST", "/v1/videos/x/complete"],
    ["POST", "/v1/videos/x/retry"],
    ["DELETE", "/v1/videos/x"],
    ["GET", "/v1/videos/x/images"],
    ["GET", "/v1/videos/x/images.zip"],
  ];
  it.each(routes)("%s %s without a token → 401 problem", async (method, path) => {
    const res = await api(path, { method });
    await expectProblem(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
  it.each(routes)("%s %s with a bad token → 401 problem", async (method, path) => {
    await expectProblem(await api(path, { method, token: "not-a-real-token" }), 401, "unauthorized");
  });
});

describe("POST /v1/videos", () => {
  it("creates a pending video with a presigned PUT bound to type and size", async () => {
    const created = await createVideo(alice.token, { filename: "Holiday Trip.MP4", options: { mode: "interval" } });
    expect(created.video).toMatchObject({
      filename: "Holiday Trip.MP4",
      contentType: "video/mp4",
      sizeBytes: 64,
      status: "VIDEO_UPLOAD_PENDING",
      attempt: 0,
      options: { mode: "interval", intervalSeconds: 10 },
      progress: null,
      queuedAt: null,
    });
    expect(created.video.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.upload.method).toBe("PUT");
    expect(created.upload.headers).toEqual({ "content-type": "video/mp4", "content-length": "64" });
    const url = new URL(created.upload.url);
    expect(url.pathname).toBe(`/vidsnap-videos/users/${alice.userId}/videos/${created.video.id}/source`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("content-length;content-type;host");
    const ttl = Date.parse(created.upload.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(800_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
  });

  it("defaults options to keyframes and normalizes the MIME type", async () => {
    const created = await createVideo(alice.token, { filename: "a.webm", contentType: "Video/WebM; codecs=vp9" });
    expect(created.video.options).toEqual({ mode: "keyframes" });
    expect(created.video.contentType).toBe("video/webm");
    expect(created.upload.headers["content-type"]).toBe("video/webm");
  });

  it("answers validation problems with the field issues", async () => {
    const res = await api("/v1/videos", {
      method: "POST",
      token: alice.token,
      json: { filename: "", contentType: "video/mp4", sizeBytes: 0, options: { mode: "interval", intervalSeconds: 0 } },
    });
    const problem = await expectProblem(res, 400, "validation");
    const paths = [...new Set(problem.errors!.map((e) => e.path))].sort();
    expect(paths).toEqual(["filename", "options.intervalSeconds", "sizeBytes"]);
    expect(problem.errors!.every((e) => e.message.length > 0)).toBe(true);
  });

  it("validates extraction options (400 validation with the option's path) and stores valid ones as given", async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ mode: "interval", intervalSeconds: 5, startSeconds: 30, endSeconds: 30 }, "options.endSeconds"],
      [{ mode: "keyframes", endSeconds: 10, startSeconds: 20 }, "options.endSeconds"],
      [{ mode: "timestamps", timestampsSeconds: [] }, "options.timestampsSeconds"],
      [{ mode: "timestamps", timestampsSeconds: Array.from({ length: 1001 }, (_, i) => i) }, "options.timestampsSeconds"],
      [{ mode: "keyframes", quality: 0 }, "options.quality"],
      [{ mode: "keyframes", quality: 101 }, "options.quality"],
      [{ mode: "keyframes", format: "png", quality: 80 }, "options.quality"],
      [{ mode: "keyframes", format: "gif" }, "options.format"],
      [{ mode: "scene", sceneThreshold: 1.01 }, "options.sceneThreshold"],
      [{ mode: "interval", accuracy: "fuzzy" }, "options.accuracy"],
    ];
    for (const [options, path] of bad) {
      const res = await api("/v1/videos", {
        method: "POST",
        token: alice.token,
        json: { filename: "a.mp4", contentType: "video/mp4", sizeBytes: 10, options },
      });
      const problem = await expectProblem(res, 400, "validation");
      expect(problem.errors!.map((e) => e.path), JSON.stringify(options)).toEqual([path]);
    }
    const options = {
      mode: "timestamps",
      timestampsSeconds: [12.5, 0],
      accuracy: "keyframe",
      format: "webp",
      quality: 70,
      maxWidth: 640,
      maxImages: 2,
    };
    const created = await createVideo(alice.token, { filename: "t.mp4", contentType: "video/mp4", options });
    expect(created.video.options).toEqual(options);
    expect(created.video).toMatchObject({ progress: null, imagesSoFar: null });
  });

  it("refuses path separators in file names (400), malformed JSON (400) and non-JSON bodies (415)", async () => {
    await expectProblem(
      await api("/v1/videos", { method: "POST", token: alice.token, json: { filename: "../x.mp4", contentType: "video/mp4", sizeBytes: 5 } }),
      400,
      "validation",
    );
    await expectProblem(
      await api("/v1/videos", { method: "POST", token: alice.token, body: "{not json", headers: { "content-type": "application/json" } }),
      400,
      "validation",
    );
    await expectProblem(
      await api("/v1/videos", { method: "POST", token: alice.token, body: "x", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported-media-type",
    );
  });

  it("refuses a file over MAX_UPLOAD_BYTES with 413", async () => {
    const res = await api("/v1/videos", {
      method: "POST",
      token: alice.token,
      json: { filename: "big.mp4", contentType: "video/mp4", sizeBytes: 104_857_601 },
    });
    await expectProblem(res, 413, "file-too-large");
  });

  it.each([
    ["notes.txt", "text/plain"],
    ["noextension", "video/mp4"],
    ["clip.mp4", "video/webm"],
    ["clip.mov", "video/mp4"],
  ])("refuses %s declared as %s with 415", async (filename, contentType) => {
    const res = await api("/v1/videos", { method: "POST", token: alice.token, json: { filename, contentType, sizeBytes: 10 } });
    await expectProblem(res, 415, "unsupported-video-type");
  });
});

describe("upload, complete and the extraction pipeline", () => {
  it("the presigned PUT accepts the declared body and refuses another size or type (403)", async () => {
    const created = await createVideo(alice.token, { sizeBytes: 16 });
    expect((await upload(created, bytes(17))).status).toBe(403);
    expect((await upload(created, bytes(16), { "content-type": "video/webm" })).status).toBe(403);
    const ok = await upload(created, bytes(16));
    expect(ok.status).toBe(200);
  });

  it("complete before the upload → 409 upload-incomplete, the video stays pending", async () => {
    const created = await createVideo(alice.token);
    await expectProblem(await api(`/v1/videos/${created.video.id}/complete`, { method: "POST", token: alice.token }), 409, "upload-incomplete");
    const [row] = await db.select().from(videos).where(eq(videos.id, created.video.id));
    expect(row!.status).toBe("VIDEO_UPLOAD_PENDING");
    expect(row!.attempt).toBe(0);
  });

  it("create → upload → complete → queued once → processed → images, ZIP and email", async () => {
    const created = await createVideo(alice.token, { filename: "Summer 2024.mp4", sizeBytes: 32 });
    const id = created.video.id;
    expect((await upload(created, bytes(32))).status).toBe(200);

    const first = await api(`/v1/videos/${id}/complete`, { method: "POST", token: alice.token });
    expect(first.status).toBe(202);
    const queued = ((await first.json()) as { video: Video }).video;
    expect(queued).toMatchObject({ id, status: "VIDEO_IMAGE_EXTRACTION_QUEUED", attempt: 1 });
    expect(queued.queuedAt).not.toBeNull();

    // Idempotent: the second call answers the current state (same attempt) and queues nothing.
    const second = await api(`/v1/videos/${id}/complete`, { method: "POST", token: alice.token });
    expect(second.status).toBe(202);
    expect(((await second.json()) as { video: Video }).video.attempt).toBe(1);

    // The extract queue is consumed by the Worker, which calls the stand-in processor and relays its
    // events through the events queue back into D1.
    const done = await eventually(async () => {
      const res = await api(`/v1/videos/${id}`, { token: alice.token });
      const { video } = (await res.json()) as { video: Video };
      return video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" ? video : undefined;
    });
    expect(done).toMatchObject({ attempt: 1, progress: 1, imageCount: 2, durationSeconds: 12.5 });
    expect(done.completedAt).not.toBeNull();
    expect(done.processingStartedAt).not.toBeNull();

    // Exactly one job reached the processor.
    expect(await processorJobs(id)).toEqual([
      {
        type: "MSG_EXTRACT_SNAPSHOT",
        sender: "VIDEO_API_SERVICE",
        target: "VIDEO_IMAGE_PROCESSOR_SERVICE",
        // The source's ETag recorded at complete: the processor reads only that object (If-Match).
        payload: { videoId: id, userId: alice.userId, attempt: 1, options: { mode: "keyframes" }, sourceEtag: expect.stringMatching(/^"[0-9a-f]{32}"$/) },
      },
    ]);

    // A third complete after success changes nothing.
    const third = await api(`/v1/videos/${id}/complete`, { method: "POST", token: alice.token });
    expect(((await third.json()) as { video: Video }).video.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");

    const imagesRes = await api(`/v1/videos/${id}/images`, { token: alice.token });
    expect(imagesRes.status).toBe(200);
    const list = (await imagesRes.json()) as ImageList;
    expect(list).toMatchObject({ videoId: id, attempt: 1, imageCount: 2 });
    expect(list.images.map((i) => i.fileName)).toEqual(["images/000001_t0000000.000.jpg", "images/000002_t0000010.000.jpg"]);
    expect(list.images[1]).toEqual({ index: 1, fileName: "images/000002_t0000010.000.jpg", timestampSeconds: 10, bytes: 1300, width: 640, height: 360 });
    expect(list.zip.sizeBytes).toBe(fakeZipBytes(id, 1).byteLength);
    const zipUrl = new URL(list.zip.url);
    expect(zipUrl.searchParams.get("X-Amz-Expires")).toBe("3600");
    expect(zipUrl.searchParams.get("response-content-disposition")).toBe('attachment; filename="Summer 2024-images.zip"');

    const zip = await fetch(list.zip.url);
    expect(zip.status).toBe(200);
    expect(zip.headers.get("content-disposition")).toBe('attachment; filename="Summer 2024-images.zip"');
    expect(new Uint8Array(await zip.arrayBuffer())).toEqual(fakeZipBytes(id, 1));

    const redirect = await api(`/v1/videos/${id}/images.zip`, { token: alice.token });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("cache-control")).toBe("private, no-store");
    const location = redirect.headers.get("location")!;
    expect(new URL(location).pathname).toBe(`/vidsnap-images/users/${alice.userId}/videos/${id}/attempts/1/images.zip`);
    expect((await fetch(location)).status).toBe(200);

    const emails = await eventually(async () => {
      const found = await emailsFor(id);
      return found.length > 0 ? found : undefined;
    });
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      type: "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS",
      sender: "VIDEO_API_SERVICE",
      target: "EMAIL_SERVICE",
      payload: { videoId: id, userId: alice.userId, attempt: 1, to: alice.email, name: "alice", filename: "Summer 2024.mp4", imageCount: 2 },
    });
    const link = new URL(emails[0]!.payload.downloadUrl as string);
    expect(link.searchParams.get("X-Amz-Expires")).toBe("604800");
    expect((await fetch(link)).status).toBe(200);
  });

  it("a bad video ends in ERROR; retry queues attempt 2, which succeeds", async () => {
    const created = await createVideo(alice.token, { sizeBytes: 8 });
    const id = created.video.id;
    await setScenario(id, "error");
    expect((await upload(created, bytes(8))).status).toBe(200);
    expect((await api(`/v1/videos/${id}/complete`, { method: "POST", token: alice.token })).status).toBe(202);
    const failed = await eventually(async () => {
      const { video } = (await (await api(`/v1/videos/${id}`, { token: alice.token })).json()) as { video: Video };
      return video.status === "VIDEO_IMAGE_EXTRACTION_ERROR" ? video : undefined;
    });
    expect(failed).toMatchObject({ attempt: 1, errorMessage: "The file is not a video we can read." });
    expect(failed.errorDescription).toContain("ffprobe");
    await expectProblem(await api(`/v1/videos/${id}/images`, { token: alice.token }), 409, "not-ready");
    const errorEmail = await eventually(async () => (await emailsFor(id)).find((m) => m.type === "MSG_SEND_SNAPSHOT_EXTRACTION_ERROR"));
    expect(errorEmail.payload).toMatchObject({ attempt: 1, errorMessage: "The file is not a video we can read." });

    await setScenario(id, "success");
    const retried = await api(`/v1/videos/${id}/retry`, { method: "POST", token: alice.token });
    expect(retried.status).toBe(202);
    expect(((await retried.json()) as { video: Video }).video).toMatchObject({
      status: "VIDEO_IMAGE_EXTRACTION_QUEUED",
      attempt: 2,
      errorMessage: null,
      errorDescription: null,
      progress: null,
      completedAt: null,
    });
    const done = await eventually(async () => {
      const { video } = (await (await api(`/v1/videos/${id}`, { token: alice.token })).json()) as { video: Video };
      return video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" ? video : undefined;
    });
    expect(done.attempt).toBe(2);
    const jobs = (await processorJobs(id)) as { payload: { attempt: number } }[];
    expect(jobs.map((j) => j.payload.attempt)).toEqual([1, 2]);
    const list = (await (await api(`/v1/videos/${id}/images`, { token: alice.token })).json()) as ImageList;
    expect(new URL(list.zip.url).pathname).toContain("/attempts/2/images.zip");
  });
});

describe("reading videos", () => {
  it("GET /v1/videos/{id} answers the owner's video and 404 to anyone else", async () => {
    const created = await createVideo(alice.token);
    const mine = await api(`/v1/videos/${created.video.id}`, { token: alice.token });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { video: Video }).video).toEqual(created.video);
    await expectProblem(await api(`/v1/videos/${created.video.id}`, { token: bob.token }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${crypto.randomUUID()}`, { token: alice.token }), 404, "not-found");
  });

  it("another user's video is 404 on every route", async () => {
    const created = await createVideo(alice.token);
    const id = created.video.id;
    for (const [method, path] of [
      ["POST", `/v1/videos/${id}/complete`],
      ["POST", `/v1/videos/${id}/retry`],
      ["GET", `/v1/videos/${id}/images`],
      ["GET", `/v1/videos/${id}/images.zip`],
    ] as const) {
      await expectProblem(await api(path, { method, token: bob.token }), 404, "not-found");
    }
  });

  it("lists newest first with an opaque cursor, a status filter and limit bounds", async () => {
    const carol = await signUp("carol");
    const base = Date.now() - 60_000;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await insertVideo(carol.userId, { status: i === 2 ? "VIDEO_IMAGE_EXTRACTION_ERROR" : "VIDEO_UPLOAD_PENDING", attempt: i === 2 ? 1 : 0, createdAt: new Date(base + i * 1000) }));
    }
    // Two videos created in the same millisecond: ordered by id.
    const tieA = await insertVideo(carol.userId, { createdAt: new Date(base + 10_000) });
    const tieB = await insertVideo(carol.userId, { createdAt: new Date(base + 10_000) });
    const expected = [...[tieA, tieB].sort().reverse(), ...ids.slice().reverse()];

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(`/v1/videos?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { token: carol.token });
      expect(res.status).toBe(200);
      const page = (await res.json()) as VideoList;
      expect(page.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.data.map((v) => v.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);

    const filtered = (await (await api("/v1/videos?status=VIDEO_IMAGE_EXTRACTION_ERROR", { token: carol.token })).json()) as VideoList;
    expect(filtered.data.map((v) => v.id)).toEqual([ids[2]]);
    expect(filtered.nextCursor).toBeNull();

    const defaults = (await (await api("/v1/videos", { token: carol.token })).json()) as VideoList;
    expect(defaults.data).toHaveLength(7);

    // Nobody else's videos.
    const bobs = (await (await api("/v1/videos", { token: bob.token })).json()) as VideoList;
    expect(bobs.data.some((v) => expected.includes(v.id))).toBe(false);

    await expectProblem(await api("/v1/videos?limit=0", { token: carol.token }), 400, "validation");
    await expectProblem(await api("/v1/videos?limit=101", { token: carol.token }), 400, "validation");
    await expectProblem(await api("/v1/videos?status=DONE", { token: carol.token }), 400, "validation");
    await expectProblem(await api("/v1/videos?cursor=bm90LWEtY3Vyc29y", { token: carol.token }), 400, "validation");
  });
});

describe("state guards", () => {
  it("retry from a non-ERROR status → 409 conflict", async () => {
    const created = await createVideo(alice.token);
    await expectProblem(await api(`/v1/videos/${created.video.id}/retry`, { method: "POST", token: alice.token }), 409, "conflict");
    const queuedId = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING" });
    await expectProblem(await api(`/v1/videos/${queuedId}/retry`, { method: "POST", token: alice.token }), 409, "conflict");
  });

  it("images and images.zip → 409 not-ready until SUCCESS", async () => {
    const id = await insertVideo(alice.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING" });
    await expectProblem(await api(`/v1/videos/${id}/images`, { token: alice.token }), 409, "not-ready");
    await expectProblem(await api(`/v1/videos/${id}/images.zip`, { token: alice.token }), 409, "not-ready");
  });
});
