/**
 * client/src/upload.ts against the real local stack (tools/stack/stack.ts on free ports, its own data
 * folder) with MULTIPART_THRESHOLD_BYTES and MULTIPART_PART_SIZE_BYTES at 5 MiB, so
 * ../shared/testdata/vtest.avi (8.1 MB) is uploaded in 2 parts:
 * - uploadVideoFile: multipart upload (parts streamed from disk, progress up to the file size), completed
 *   and extracted to VIDEO_IMAGE_EXTRACTION_SUCCESS; a part whose first PUT fails on the network is retried;
 * - resumeVideoUpload: part 1 uploaded by hand, then only part 2 is sent (found via GET upload-parts) and
 *   the video completes;
 * - a small file goes through the single PUT; API refusals become UploadError with status and problem.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate, createVidsnapClient, unwrap, uploadInstructionsOf, waitForVideo, type Video, type VidsnapClient } from "../../client/src/index.ts";
import { resumeVideoUpload, uploadVideoFile, UploadError, type UploadProgress } from "../../client/src/upload.ts";
import { freePort } from "../../tools/free-port.ts";
import { testVideo } from "../../tools/paths.ts";
import { startStack, type StackHandle } from "../../tools/stack/stack.ts";

const PART = 5 * 1024 * 1024;
let stack: StackHandle;
let dataDir: string;
let token: string;
let api: VidsnapClient;
let stackLog = "";

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-multipart-"));
  stack = await startStack({
    dataDir,
    apiPort: await freePort(),
    processorPort: await freePort(),
    s3Port: await freePort(),
    vars: { MULTIPART_THRESHOLD_BYTES: String(PART), MULTIPART_PART_SIZE_BYTES: String(PART) },
    log: (line) => {
      stackLog += line + "\n";
    },
  });
  const session = await authenticate(stack.apiUrl, "sign-up", { email: "multipart@example.com", password: "correct-horse-battery", name: "Multipart" }).catch(
    (err: unknown) => {
      throw new Error(`sign-up failed: ${String(err)}\n${stackLog.slice(-2000)}`);
    },
  );
  token = session.token;
  api = createVidsnapClient({ baseUrl: stack.apiUrl, token });
}, 150_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** fetch that records every request as `METHOD pathname?partNumber` and can fail chosen ones once. */
function recordingFetch(failOnce?: (method: string, url: URL) => boolean) {
  const calls: string[] = [];
  const failed = new Set<string>();
  const f: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input.toString() : input.url);
    const method = init?.method ?? "GET";
    const part = url.searchParams.get("partNumber");
    const label = `${method} ${part ? `part ${part}` : url.pathname}`;
    calls.push(label);
    if (failOnce?.(method, url) && !failed.has(label)) {
      failed.add(label);
      // Consume a little of the body like a connection dropped mid-way, then fail as undici does.
      await (init?.body as ReadableStream | undefined)?.cancel();
      throw new TypeError("fetch failed (simulated connection reset)");
    }
    return fetch(input, init);
  };
  return { fetch: f, calls };
}

const byId = (id: string) => ({ params: { path: { id } } });

async function waitForSuccess(id: string): Promise<Video> {
  return waitForVideo(api, id, { timeoutMs: 60_000, initialDelayMs: 300, maxDelayMs: 300 });
}

describe("uploadVideoFile", () => {
  it("uploads vtest.avi in 2 parts (a dropped part retried), completes it and the extraction succeeds", async () => {
    const file = testVideo("vtest.avi");
    const size = statSync(file).size;
    const progress: UploadProgress[] = [];
    const rec = recordingFetch((method, url) => method === "PUT" && url.searchParams.get("partNumber") === "2");

    const video = await uploadVideoFile({
      baseUrl: stack.apiUrl,
      token,
      filePath: file,
      options: { mode: "keyframes" },
      onProgress: (p) => progress.push(p),
      fetch: rec.fetch,
    });

    expect(video).toMatchObject({ filename: "vtest.avi", contentType: "video/x-msvideo", sizeBytes: size, status: "VIDEO_IMAGE_EXTRACTION_QUEUED" });
    expect(rec.calls.filter((c) => c === "PUT part 1")).toHaveLength(1);
    expect(rec.calls.filter((c) => c === "PUT part 2")).toHaveLength(2); // dropped once, retried with a fresh URL
    expect(rec.calls.filter((c) => c.endsWith("/upload-parts"))).toHaveLength(2);
    expect(progress.at(-1)).toEqual({ uploadedBytes: size, totalBytes: size });
    expect(progress.every((p) => p.uploadedBytes <= size)).toBe(true);

    const done = await waitForSuccess(video.id);
    expect(done.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect(done.imageCount).toBeGreaterThan(0);
  });

  it("uses the single PUT below the threshold", async () => {
    const file = testVideo("tree.avi");
    const rec = recordingFetch();
    const video = await uploadVideoFile({ baseUrl: stack.apiUrl, token, filePath: file, fetch: rec.fetch });
    expect(video.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(rec.calls.filter((c) => c.startsWith("PUT"))).toHaveLength(1);
    expect(rec.calls.some((c) => c.includes("upload-parts"))).toBe(false);
  });

  it("throws UploadError with the HTTP status and problem details", async () => {
    const file = testVideo("tree.avi");
    const wrongType = await uploadVideoFile({ baseUrl: stack.apiUrl, token, filePath: file, contentType: "text/plain" }).catch((e: unknown) => e);
    expect(wrongType).toBeInstanceOf(UploadError);
    expect((wrongType as UploadError).status).toBe(415);
    expect((wrongType as UploadError).problem?.type).toBe("https://vidsnap.dev/problems/unsupported-video-type");

    const badToken = await uploadVideoFile({ baseUrl: stack.apiUrl, token: "nope", filePath: file }).catch((e: unknown) => e);
    expect((badToken as UploadError).status).toBe(401);

    const missing = await uploadVideoFile({ baseUrl: stack.apiUrl, token, filePath: path.join(dataDir, "none.mp4") }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UploadError);
    expect((missing as UploadError).status).toBeUndefined();
  });
});

describe("resumeVideoUpload", () => {
  it("sends only the parts the storage lacks, then completes; the video is extracted", async () => {
    const file = testVideo("vtest.avi");
    const size = statSync(file).size;
    const created = unwrap(await api.POST("/v1/videos", { body: { filename: "vtest.avi", contentType: "video/x-msvideo", sizeBytes: size } }));
    expect(uploadInstructionsOf(created)).toMatchObject({ method: "MULTIPART", partCount: 2, partSizeBytes: PART });

    // Part 1 only, as an interrupted client would have left it.
    const { parts } = unwrap(await api.POST("/v1/videos/{id}/upload-parts", { ...byId(created.video.id), body: { partNumbers: [1] } }));
    const put = await fetch(parts[0]!.url, {
      method: "PUT",
      headers: parts[0]!.headers,
      body: Readable.toWeb(createReadStream(file, { start: 0, end: PART - 1 })) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    expect(put.status).toBe(200);
    await put.body?.cancel();

    const rec = recordingFetch();
    const progress: UploadProgress[] = [];
    const video = await resumeVideoUpload({
      baseUrl: stack.apiUrl,
      token,
      videoId: created.video.id,
      filePath: file,
      fetch: rec.fetch,
      onProgress: (p) => progress.push(p),
    });
    expect(video).toMatchObject({ id: created.video.id, status: "VIDEO_IMAGE_EXTRACTION_QUEUED" });
    expect(rec.calls.filter((c) => c.startsWith("PUT"))).toEqual(["PUT part 2"]);
    expect(progress[0]!.uploadedBytes).toBeGreaterThanOrEqual(PART); // part 1 counted as already sent
    expect(progress.at(-1)).toEqual({ uploadedBytes: size, totalBytes: size });

    // Resuming a completed video sends nothing and answers its state.
    const again = await resumeVideoUpload({ baseUrl: stack.apiUrl, token, videoId: created.video.id, filePath: file });
    expect(again.id).toBe(created.video.id);
    expect((await waitForSuccess(created.video.id)).status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
  });

  it("an upload aborted mid-way names its video, which resumeVideoUpload then completes", async () => {
    const file = testVideo("vtest.avi");
    const controller = new AbortController();
    const aborted = await uploadVideoFile({
      baseUrl: stack.apiUrl,
      token,
      filePath: file,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.uploadedBytes > 1024 * 1024) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(UploadError);
    const videoId = (aborted as UploadError).videoId!;
    expect(videoId).toMatch(/^[0-9a-f-]{36}$/);
    expect(unwrap(await api.GET("/v1/videos/{id}", byId(videoId))).video.status).toBe("VIDEO_UPLOAD_PENDING");

    const video = await resumeVideoUpload({ baseUrl: stack.apiUrl, token, videoId, filePath: file });
    expect(video).toMatchObject({ id: videoId, status: "VIDEO_IMAGE_EXTRACTION_QUEUED", sizeBytes: statSync(file).size });
  });

  it("refuses a file of another size than declared, and a video of another user (404)", async () => {
    const created = unwrap(
      await api.POST("/v1/videos", { body: { filename: "vtest.avi", contentType: "video/x-msvideo", sizeBytes: statSync(testVideo("vtest.avi")).size } }),
    );
    const other = await resumeVideoUpload({ baseUrl: stack.apiUrl, token, videoId: created.video.id, filePath: testVideo("tree.avi") }).catch(
      (e: unknown) => e,
    );
    expect(other).toBeInstanceOf(UploadError);
    expect((other as UploadError).message).toContain("declared");

    const { token: intruder } = await authenticate(stack.apiUrl, "sign-up", { email: "intruder@example.com", password: "correct-horse-battery", name: "Intruder" });
    const stolen = await resumeVideoUpload({ baseUrl: stack.apiUrl, token: intruder, videoId: created.video.id, filePath: testVideo("vtest.avi") }).catch(
      (e: unknown) => e,
    );
    expect((stolen as UploadError).status).toBe(404);
  });
});
