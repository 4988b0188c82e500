/**
 * The transcode API end to end in workerd: routes under `/v1/videos/{id}/transcodes`, the vidsnap-transcode
 * queue consumed by the Worker itself and relayed to the stand-in processor (which stores fake outputs in the
 * real S3 server), the events applied through the shared lifecycle, emails queued, and the tokenized HLS
 * playlist routes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import type { CreateVideoResponse, Problem, Stats, Transcode, TranscodeList, UploadInstructions } from "../../../schema/api.ts";
import { transcodes } from "../../../schema/db.ts";
import type { TranscodeRequest } from "../../../schema/transcode-options.ts";
import { fakeOutputBytes } from "../stand-in-transcode.ts";
import { makePlaybackToken } from "../../../edge-api/src/services/transcodes/playback.ts";
import { signUrlToken } from "../../../edge-api/src/signed-url.ts";
import { api, db, emailsForTranscode, eventually, insertVideo, processorJobs, setScenario, signUp, testDeps } from "../support/env.ts";

const PROBLEM = "https://vidsnap.dev/problems/";

/** A response body as text, whatever its content type (playlists, fake media bytes). */
const textOf = async (res: Response) => new TextDecoder().decode(await res.arrayBuffer());

async function expectProblem(res: Response, status: number, kind: string): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Problem;
  expect(body).toMatchObject({ type: PROBLEM + kind, status });
  return body;
}

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let bob: User;

beforeAll(async () => {
  alice = await signUp("alice");
  bob = await signUp("bob");
});

const REQUEST: TranscodeRequest = { renditions: [{ format: "mp4", height: 480 }, { format: "hls", heights: [360, 240] }], endSeconds: 5 };

async function createTranscode(user: User, videoId: string, body: unknown = REQUEST): Promise<Transcode> {
  const res = await api(`/v1/videos/${videoId}/transcodes`, { method: "POST", token: user.token, json: body });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { transcode: Transcode }).transcode;
}

async function getTranscode(user: User, videoId: string, id: string): Promise<Transcode> {
  const res = await api(`/v1/videos/${videoId}/transcodes/${id}`, { token: user.token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { transcode: Transcode }).transcode;
}

/** Polls until the transcode reaches `status`. */
function waitFor(user: User, videoId: string, id: string, status: Transcode["status"]): Promise<Transcode> {
  return eventually(async () => {
    const t = await getTranscode(user, videoId, id);
    return t.status === status ? t : undefined;
  });
}

/** A video whose upload is complete (extraction done), owned by `user`. */
const completedVideo = (user: User) => insertVideo(user.userId, { status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", filename: "My <talk>.mov" });

describe("POST /v1/videos/{id}/transcodes", () => {
  it("queues a transcode of a completed video, which runs to TRANSCODE_SUCCESS with progress, speed and linked outputs", async () => {
    const videoId = await completedVideo(alice);
    const created = await createTranscode(alice, videoId);
    expect(created).toMatchObject({ videoId, status: "TRANSCODE_QUEUED", attempt: 1, request: REQUEST, outputs: [], playbackUrl: null });

    const done = await waitFor(alice, videoId, created.id, "TRANSCODE_SUCCESS");
    expect(done).toMatchObject({ progress: 1, speed: 3.1, etaSeconds: null, elapsedSeconds: 4, sourceDurationSeconds: 12.5, errorMessage: null });
    expect(done.outputs.map((o) => o.rendition).sort()).toEqual(["hls", "hls-240", "hls-360", "mp4-480"]);
    const jobs = (await processorJobs(created.id)) as { type: string; payload: Record<string, unknown> }[];
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ type: "MSG_TRANSCODE", payload: { transcodeId: created.id, videoId, attempt: 1, transcode: REQUEST } });

    const mp4 = done.outputs.find((o) => o.rendition === "mp4-480")!;
    expect(mp4).toMatchObject({ format: "mp4", contentType: "video/mp4", width: 854, height: 480, hasAudio: true });
    const download = await fetch(mp4.url);
    expect(download.status).toBe(200);
    const key = new URL(mp4.url).pathname.split("/").slice(2).map(decodeURIComponent).join("/");
    expect(await textOf(download)).toBe(fakeOutputBytes(key));
    // The download name keeps the video's name, made header-safe.
    expect(new URL(mp4.url).searchParams.get("response-content-disposition")).toBe('attachment; filename="My _talk_-mp4-480.mp4"');

    const hls = done.outputs.find((o) => o.rendition === "hls")!;
    expect(done.playbackUrl).toBe(hls.url);
    expect(hls.url).toMatch(new RegExp(`/v1/videos/${videoId}/transcodes/${done.id}/master\\.m3u8\\?token=\\d+\\.[A-Za-z0-9_-]{43}$`));
    expect(done.outputs.find((o) => o.rendition === "hls-360")!.url).toContain(`/transcodes/${done.id}/hls/360/index.m3u8?token=`);

    // One success email, with a link per file and the playback URL.
    const emails = await eventually(async () => {
      const got = await emailsForTranscode(done.id);
      return got.length > 0 ? got : undefined;
    });
    expect(emails.map((e) => e.type)).toEqual(["MSG_SEND_TRANSCODE_SUCCESS"]);
    expect(emails[0]!.payload).toMatchObject({ transcodeId: done.id, videoId, attempt: 1, filename: "My <talk>.mov" });
    expect((emails[0]!.payload.files as { rendition: string }[]).map((f) => f.rendition)).toEqual(["mp4-480"]);
    expect(emails[0]!.payload.playbackUrl).toMatch(/master\.m3u8\?token=/);
  });

  it("answers 400 naming the bad option, and 404 for another user's or a missing video", async () => {
    const videoId = await completedVideo(alice);
    const bad = await expectProblem(
      await api(`/v1/videos/${videoId}/transcodes`, { method: "POST", token: alice.token, json: { renditions: [{ format: "mp4", height: 500 }] } }),
      400,
      "validation",
    );
    expect(bad.errors?.map((e) => e.path)).toContain("renditions.0.height");
    const trim = await expectProblem(
      await api(`/v1/videos/${videoId}/transcodes`, { method: "POST", token: alice.token, json: { renditions: [{ format: "webm" }], startSeconds: 9, endSeconds: 3 } }),
      400,
      "validation",
    );
    expect(trim.errors?.map((e) => e.path)).toContain("endSeconds");
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes`, { method: "POST", token: bob.token, json: REQUEST }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/nope/transcodes`, { method: "POST", token: alice.token, json: REQUEST }), 404, "not-found");
    expect(await db.select().from(transcodes).where(eq(transcodes.videoId, videoId))).toHaveLength(0);
  });

  it("refuses a sixth transcode while five of the video are waiting or running (409)", async () => {
    const videoId = await insertVideo(alice.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    for (let i = 0; i < 5; i++) expect((await createTranscode(alice, videoId)).status).toBe("TRANSCODE_PENDING");
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes`, { method: "POST", token: alice.token, json: REQUEST }), 409, "conflict");
  });
});

describe("a transcode sent with POST /v1/videos", () => {
  it("waits in TRANSCODE_PENDING until the upload is completed, then runs beside the extraction", async () => {
    const res = await api("/v1/videos", {
      method: "POST",
      token: alice.token,
      json: { filename: "clip.mp4", contentType: "video/mp4", sizeBytes: 32, transcode: { renditions: [{ format: "webm", height: 240 }] } },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as CreateVideoResponse & { upload: UploadInstructions };
    expect(created.transcode).toMatchObject({ status: "TRANSCODE_PENDING", attempt: 0, videoId: created.video.id });
    const put = await fetch(created.upload.url, { method: "PUT", headers: { "content-type": created.upload.headers["content-type"] }, body: new Uint8Array(32) });
    expect(put.status).toBe(200);
    expect((await api(`/v1/videos/${created.video.id}/complete`, { method: "POST", token: alice.token })).status).toBe(202);
    const done = await waitFor(alice, created.video.id, created.transcode!.id, "TRANSCODE_SUCCESS");
    expect(done.outputs.map((o) => o.rendition)).toEqual(["webm-240"]);
    // A second complete changes nothing and queues no second job.
    expect((await api(`/v1/videos/${created.video.id}/complete`, { method: "POST", token: alice.token })).status).toBe(202);
    expect(await processorJobs(done.id)).toHaveLength(1);
  });

  it("answers 400 naming the option inside `transcode`", async () => {
    const res = await api("/v1/videos", {
      method: "POST",
      token: alice.token,
      json: { filename: "clip.mp4", contentType: "video/mp4", sizeBytes: 32, transcode: { renditions: [{ format: "hls", segmentSeconds: 30 }] } },
    });
    const body = await expectProblem(res, 400, "validation");
    expect(body.errors?.map((e) => e.path)).toContain("transcode.renditions.0.segmentSeconds");
  });
});

describe("GET, list, retry and delete", () => {
  it("lists a video's transcodes newest first with a cursor, filtered by status; 404 for another user", async () => {
    const videoId = await insertVideo(alice.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    const made = [await createTranscode(alice, videoId), await createTranscode(alice, videoId), await createTranscode(alice, videoId)];
    const page1 = (await (await api(`/v1/videos/${videoId}/transcodes?limit=2`, { token: alice.token })).json()) as TranscodeList;
    expect(page1.data.map((t) => t.id)).toEqual([made[2]!.id, made[1]!.id]);
    const page2 = (await (await api(`/v1/videos/${videoId}/transcodes?limit=2&cursor=${page1.nextCursor}`, { token: alice.token })).json()) as TranscodeList;
    expect(page2).toMatchObject({ data: [{ id: made[0]!.id }], nextCursor: null });
    const none = (await (await api(`/v1/videos/${videoId}/transcodes?status=TRANSCODE_SUCCESS`, { token: alice.token })).json()) as TranscodeList;
    expect(none.data).toEqual([]);
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes`, { token: bob.token }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes/${made[0]!.id}`, { token: bob.token }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes/${made[0]!.id}/retry`, { method: "POST", token: bob.token }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes/${made[0]!.id}`, { method: "DELETE", token: bob.token }), 404, "not-found");
    // A transcode id under another of alice's videos is not found either.
    const other = await completedVideo(alice);
    await expectProblem(await api(`/v1/videos/${other}/transcodes/${made[0]!.id}`, { token: alice.token }), 404, "not-found");
  });

  it("retries a failed transcode only (409 otherwise), as attempt 2 with its own email", async () => {
    const videoId = await completedVideo(alice);
    const transcodeId = crypto.randomUUID();
    // The stand-in's scenario is keyed by transcode id: script it before the row exists.
    await setScenario(transcodeId, "error");
    await db.insert(transcodes).values({ id: transcodeId, userId: alice.userId, videoId, status: "TRANSCODE_PENDING", request: REQUEST, attempt: 0 });
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes/${transcodeId}/retry`, { method: "POST", token: alice.token }), 409, "conflict");
    expect((await api(`/v1/videos/${videoId}/complete`, { method: "POST", token: alice.token })).status).toBe(202);
    const failed = await waitFor(alice, videoId, transcodeId, "TRANSCODE_ERROR");
    expect(failed).toMatchObject({ attempt: 1, errorMessage: "The height 2160 is above the source's (360).", outputs: [], etaSeconds: null });

    await setScenario(transcodeId, "success");
    const retried = await api(`/v1/videos/${videoId}/transcodes/${transcodeId}/retry`, { method: "POST", token: alice.token });
    expect(retried.status).toBe(202);
    expect(((await retried.json()) as { transcode: Transcode }).transcode).toMatchObject({ status: "TRANSCODE_QUEUED", attempt: 2, errorMessage: null, progress: null });
    await waitFor(alice, videoId, transcodeId, "TRANSCODE_SUCCESS");
    const emails = await eventually(async () => {
      const got = await emailsForTranscode(transcodeId);
      return got.length >= 2 ? got : undefined;
    });
    expect(emails.map((e) => `${e.type}:${e.payload.attempt}`)).toEqual(["MSG_SEND_TRANSCODE_ERROR:1", "MSG_SEND_TRANSCODE_SUCCESS:2"]);
  });

  it("deletes a finished transcode and every object under its prefix; 404 afterwards", async () => {
    const videoId = await completedVideo(alice);
    const created = await createTranscode(alice, videoId);
    await waitFor(alice, videoId, created.id, "TRANSCODE_SUCCESS");
    const deps = testDeps();
    const prefix = `users/${alice.userId}/videos/${videoId}/transcodes/${created.id}/`;
    expect((await deps.storage.listKeys("vidsnap-videos", prefix)).length).toBe(10); // mp4 + master + 2 × (playlist, init, 2 segments)
    expect((await api(`/v1/videos/${videoId}/transcodes/${created.id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    expect(await deps.storage.listKeys("vidsnap-videos", prefix)).toEqual([]);
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes/${created.id}`, { token: alice.token }), 404, "not-found");
    await expectProblem(await api(`/v1/videos/${videoId}/transcodes/${created.id}`, { method: "DELETE", token: alice.token }), 404, "not-found");
  });
});

describe("GET /v1/stats", () => {
  it("counts the user's transcodes by status", async () => {
    const carol = await signUp("carol");
    const videoId = await insertVideo(carol.userId, { status: "VIDEO_UPLOAD_PENDING", attempt: 0 });
    await createTranscode(carol, videoId);
    await createTranscode(carol, videoId);
    const stats = (await (await api("/v1/stats", { token: carol.token })).json()) as Stats;
    expect(stats.transcodesByStatus).toEqual({ TRANSCODE_PENDING: 2, TRANSCODE_QUEUED: 0, TRANSCODE_PROCESSING: 0, TRANSCODE_SUCCESS: 0, TRANSCODE_ERROR: 0 });
    expect(stats.totalTranscodes).toBe(2);
  });
});

describe("HLS playback without a bearer token", () => {
  let videoId: string;
  let done: Transcode;
  beforeAll(async () => {
    videoId = await completedVideo(alice);
    done = await waitFor(alice, videoId, (await createTranscode(alice, videoId)).id, "TRANSCODE_SUCCESS");
  });

  it("answers the master playlist with tokenized variant URLs, and each variant with presigned segment URLs", async () => {
    const res = await api(new URL(done.playbackUrl!).pathname + new URL(done.playbackUrl!).search, { headers: { origin: "https://player.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const master = await textOf(res);
    const token = new URL(done.playbackUrl!).searchParams.get("token")!;
    const variants = master.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(variants).toEqual([`hls/360/index.m3u8?token=${encodeURIComponent(token)}`, `hls/240/index.m3u8?token=${encodeURIComponent(token)}`]);
    expect(master).toContain("#EXT-X-STREAM-INF:BANDWIDTH=720000,RESOLUTION=640x360");

    // The variant URI resolves against the master's URL, as a player does.
    const variantUrl = new URL(variants[0]!, done.playbackUrl!);
    const media = await textOf(await api(variantUrl.pathname + variantUrl.search));
    const uris = [...media.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!).concat(media.split("\n").filter((l) => l && !l.startsWith("#")));
    expect(uris).toHaveLength(3);
    for (const uri of uris) {
      const segment = await fetch(uri);
      expect(segment.status).toBe(200);
      const key = new URL(uri).pathname.split("/").slice(2).map(decodeURIComponent).join("/");
      expect(await textOf(segment)).toBe(fakeOutputBytes(key));
      expect(Number(new URL(uri).searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(3600);
    }
    expect(media).toContain("#EXTINF:6.500,");
  });

  it("refuses a tampered, expired or another transcode's token with 403, and a missing one with 400", async () => {
    const master = new URL(done.playbackUrl!);
    const token = master.searchParams.get("token")!;
    const path = master.pathname;
    const tampered = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    await expectProblem(await api(`${path}?token=${tampered}`), 403, "playback-token-invalid");
    await expectProblem(await api(`${path}?token=${Number(token.split(".")[0]) + 10}.${token.split(".")[1]}`), 403, "playback-token-invalid");
    const deps = testDeps();
    const scope = { videoId, transcodeId: done.id, attempt: done.attempt };
    const expired = await signUrlToken(deps.config.betterAuthSecret, ["hls", videoId, done.id, "1"], Math.floor(Date.now() / 1000) - 1);
    await expectProblem(await api(`${path}?token=${expired}`), 403, "playback-token-invalid");
    // A valid token of another transcode (or of another attempt of this one) opens nothing here.
    const other = await makePlaybackToken(deps, { ...scope, transcodeId: crypto.randomUUID() }, 600);
    await expectProblem(await api(`${path}?token=${other.token}`), 403, "playback-token-invalid");
    const older = await makePlaybackToken(deps, { ...scope, attempt: 2 }, 600);
    await expectProblem(await api(`${path.replace("master.m3u8", "hls/360/index.m3u8")}?token=${older.token}`), 403, "playback-token-invalid");
    await expectProblem(await api(path), 400, "validation");
    // The other routes of the transcode still need the bearer token.
    await expectProblem(await api(path.replace("/master.m3u8", "")), 401, "unauthorized");
    // A variant that does not exist: 404.
    await expectProblem(await api(`${path.replace("master.m3u8", "hls/1080/index.m3u8")}?token=${token}`), 404, "not-found");
  });
});
