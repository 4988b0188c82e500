/**
 * The upload protocol (client/src/upload-protocol.ts) with both byte sources, a Blob and a Node file
 * range (client/src/node-file.ts), against a local HTTP server that plays the API (create, presign parts,
 * list stored parts, complete) and the storage's presigned PUT URLs. Checks the bytes that arrive, the
 * single PUT / multipart choice, retries with a fresh URL, resume, abort and the errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createVidsnapClient, isVidsnapApiError } from "../../client/src/index.ts";
import { fileSource } from "../../client/src/node-file.ts";
import { uploadVideoFile } from "../../client/src/upload.ts";
import {
  blobSource,
  PART_CONCURRENCY,
  resumeUpload,
  uploadVideo,
  UploadError,
  videoContentType,
  type UploadProgress,
} from "../../client/src/upload-protocol.ts";

const PART = 1000;
const THRESHOLD = 2500;

/** What the fake server saw and holds. */
interface FakeState {
  log: string[];
  /** Stored bytes: "whole" or part numbers. */
  stored: Map<string, Buffer>;
  created?: { filename: string; contentType: string; sizeBytes: number };
  completedParts?: { partNumber: number; etag: string }[];
  /** Storage answers to force, by part ("whole" for the single PUT), consumed in order. */
  failures: Map<string, number[]>;
  presignCalls: number;
  inFlight: number;
  maxInFlight: number;
}

let server: Server;
let baseUrl: string;
let dir: string;
let state: FakeState;

const fresh = (): FakeState => ({ log: [], stored: new Map(), failures: new Map(), presignCalls: 0, inFlight: 0, maxInFlight: 0 });

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function video(status = "VIDEO_UPLOAD_PENDING") {
  return {
    id: "v1",
    filename: state.created?.filename ?? "clip.mp4",
    contentType: state.created?.contentType ?? "video/mp4",
    sizeBytes: state.created?.sizeBytes ?? 0,
    status,
  };
}

function partsOf(size: number) {
  return { partSizeBytes: PART, partCount: Math.max(1, Math.ceil(size / PART)) };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-upload-"));
  server = createServer(async (req, res) => {
    const url = new URL(req.url!, baseUrl);
    const json = (status: number, value: unknown, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(JSON.stringify(value));
    };
    if (url.pathname.startsWith("/storage/")) {
      const slot = url.searchParams.get("partNumber") ?? "whole";
      state.log.push(`PUT ${slot}`);
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      const bytes = await body(req);
      await new Promise((r) => setTimeout(r, 20)); // let the other parts start
      state.inFlight--;
      const forced = state.failures.get(slot)?.shift();
      if (forced) {
        res.writeHead(forced, { "content-type": "application/xml" });
        return res.end(`<Error><Code>${forced === 403 ? "AccessDenied" : "InternalError"}</Code><Message>forced</Message></Error>`);
      }
      state.stored.set(slot, bytes);
      res.writeHead(200, { etag: `"etag-${slot}-${url.searchParams.get("n")}"` });
      return res.end();
    }
    const auth = req.headers.authorization;
    if (auth !== "Bearer tok") return json(401, { type: "https://vidsnap.dev/problems/unauthorized", title: "Unauthorized", status: 401, detail: "bad token", requestId: "r1" }, "application/problem+json");
    state.log.push(`${req.method} ${url.pathname}`);
    if (req.method === "POST" && url.pathname === "/v1/videos") {
      const b = JSON.parse((await body(req)).toString()) as FakeState["created"] & object;
      if (b.contentType === "text/plain") {
        return json(415, { type: "https://vidsnap.dev/problems/unsupported-video-type", title: "Unsupported video type", status: 415, detail: "text/plain", requestId: "r2" }, "application/problem+json");
      }
      state.created = b;
      const upload =
        b.sizeBytes > THRESHOLD
          ? { method: "MULTIPART", ...partsOf(b.sizeBytes), expiresAt: new Date(Date.now() + 3_600_000).toISOString() }
          : { method: "PUT", url: `${baseUrl}/storage/whole`, headers: { "content-type": b.contentType }, expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
      return json(201, { video: video(), upload });
    }
    if (req.method === "POST" && url.pathname === "/v1/videos/v1/upload-parts") {
      const { partNumbers } = JSON.parse((await body(req)).toString()) as { partNumbers: number[] };
      const n = ++state.presignCalls;
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      return json(200, { parts: partNumbers.map((p) => ({ partNumber: p, url: `${baseUrl}/storage/o?partNumber=${p}&n=${n}`, headers: {}, expiresAt })) });
    }
    if (req.method === "GET" && url.pathname === "/v1/videos/v1/upload-parts") {
      const size = state.created?.sizeBytes ?? 0;
      const parts = [...state.stored].filter(([k]) => k !== "whole").map(([k, b]) => ({ partNumber: Number(k), sizeBytes: b.length, etag: `"stored-${k}"` }));
      return json(200, { ...partsOf(size), parts });
    }
    if (req.method === "GET" && url.pathname === "/v1/videos/v1") return json(200, { video: video() });
    if (req.method === "POST" && url.pathname === "/v1/videos/v1/complete") {
      state.completedParts = (JSON.parse((await body(req)).toString()) as { parts?: FakeState["completedParts"] }).parts;
      return json(200, { video: video("VIDEO_IMAGE_EXTRACTION_QUEUED") });
    }
    json(404, { type: "https://vidsnap.dev/problems/not-found", title: "Not found", status: 404, detail: url.pathname, requestId: "r3" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  state = fresh();
});

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) % 251));
const api = () => createVidsnapClient({ baseUrl, token: "tok" });
/** The parts the storage holds, joined in part order. */
const assembled = () =>
  Buffer.concat(
    [...state.stored]
      .filter(([k]) => k !== "whole")
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([, b]) => b),
  );

describe("upload protocol", () => {
  it("a Blob source below the threshold goes as one PUT with its bytes, progress up to the size", async () => {
    const data = bytes(1234);
    const progress: UploadProgress[] = [];
    const phases: string[] = [];
    const done = await uploadVideo({
      api: api(),
      source: blobSource(new File([data], "clip.webm", { type: "video/webm" })),
      onProgress: (p) => progress.push(p),
      onPhase: (p) => phases.push(p),
    });
    expect(done.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(state.created).toMatchObject({ filename: "clip.webm", contentType: "video/webm", sizeBytes: 1234 });
    expect(state.stored.get("whole")).toEqual(data);
    expect(state.log).toEqual(["POST /v1/videos", "PUT whole", "POST /v1/videos/v1/complete"]);
    expect(state.completedParts).toBeUndefined();
    expect(phases).toEqual(["create", "upload", "complete"]);
    expect(progress.at(-1)).toEqual({ uploadedBytes: 1234, totalBytes: 1234 });
  });

  it("a Node file source above the threshold goes in parts; a part answered 500 is sent again with a fresh URL", async () => {
    const data = bytes(9 * PART + 345);
    const file = path.join(dir, "big.avi");
    writeFileSync(file, data);
    state.failures.set("3", [500]);
    const progress: UploadProgress[] = [];
    const done = await uploadVideo({ api: api(), source: await fileSource(file), onProgress: (p) => progress.push(p) });
    expect(done.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(state.created).toMatchObject({ filename: "big.avi", contentType: "video/x-msvideo", sizeBytes: data.length });
    expect(assembled()).toEqual(data);
    expect(state.log.filter((l) => l === "PUT 3")).toHaveLength(2);
    expect(state.completedParts?.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Part 3's ETag is the one of its second URL (another presign call than the first).
    expect(state.completedParts?.[2]?.etag).not.toBe(`"etag-3-1"`);
    expect(state.maxInFlight).toBeLessThanOrEqual(PART_CONCURRENCY);
    expect(state.maxInFlight).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual({ uploadedBytes: data.length, totalBytes: data.length });
    expect(progress.every((p) => p.uploadedBytes <= data.length)).toBe(true);
  });

  it("uploadVideoFile (file path) uploads the same way", async () => {
    const data = bytes(3 * PART);
    const file = path.join(dir, "three.mp4");
    writeFileSync(file, data);
    const done = await uploadVideoFile({ baseUrl, token: "tok", filePath: file });
    expect(done.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(assembled()).toEqual(data);
  });

  it("resume sends only the parts the storage lacks", async () => {
    const data = bytes(4 * PART + 10);
    state.created = { filename: "r.mp4", contentType: "video/mp4", sizeBytes: data.length };
    state.stored.set("1", data.subarray(0, PART));
    state.stored.set("4", data.subarray(3 * PART, 3 * PART + 7)); // wrong size: sent again
    const progress: UploadProgress[] = [];
    const done = await resumeUpload({ api: api(), videoId: "v1", source: blobSource(new Blob([data]), "r.mp4"), onProgress: (p) => progress.push(p) });
    expect(done.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(state.log.filter((l) => l.startsWith("PUT")).sort()).toEqual(["PUT 2", "PUT 3", "PUT 4", "PUT 5"]);
    expect(assembled()).toEqual(data);
    expect(progress[0]!.uploadedBytes).toBeGreaterThanOrEqual(PART);
    expect(state.completedParts?.[0]).toEqual({ partNumber: 1, etag: `"stored-1"` });

    const other = await resumeUpload({ api: api(), videoId: "v1", source: blobSource(new Blob([bytes(5)]), "r.mp4") }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(UploadError);
    expect((other as UploadError).message).toContain("declared");
    expect((other as UploadError).videoId).toBe("v1");
  });

  it("API refusals carry status, problem and the VidsnapApiError; a storage 403 is not retried", async () => {
    const refused = await uploadVideo({ api: api(), source: blobSource(new Blob([bytes(10)]), "a.mp4"), contentType: "text/plain" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UploadError);
    expect(refused).toMatchObject({ status: 415, problem: { type: "https://vidsnap.dev/problems/unsupported-video-type", requestId: "r2" } });
    expect((refused as UploadError).message).toBe("POST /v1/videos answered 415: Unsupported video type: text/plain");
    expect(isVidsnapApiError((refused as UploadError).cause)).toBe(true);

    const badToken = createVidsnapClient({ baseUrl, token: "nope" });
    await expect(uploadVideo({ api: badToken, source: blobSource(new Blob([bytes(10)]), "a.mp4") })).rejects.toMatchObject({ status: 401 });

    state = fresh();
    state.failures.set("2", [403]);
    const denied = await uploadVideo({ api: api(), source: blobSource(new Blob([bytes(3 * PART)]), "a.mp4") }).catch((e: unknown) => e);
    expect(denied).toMatchObject({ status: 403, videoId: "v1" });
    expect((denied as UploadError).message).toBe("The storage refused the upload (403 AccessDenied: forced).");
    expect(state.log.filter((l) => l === "PUT 2")).toHaveLength(1);
  });

  it("an abort stops the upload with an UploadError naming the video", async () => {
    const controller = new AbortController();
    const aborted = await uploadVideo({
      api: api(),
      source: blobSource(new Blob([bytes(8 * PART)]), "a.mp4"),
      signal: controller.signal,
      onProgress: (p) => {
        if (p.uploadedBytes > 0) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(UploadError);
    expect((aborted as UploadError).videoId).toBe("v1");
    expect((aborted as UploadError).status).toBeUndefined();
    expect(state.log).not.toContain("POST /v1/videos/v1/complete");
  });

  it("declares the source's type when the API allows it for the extension, else the extension's first type", () => {
    expect(videoContentType("a.avi", "video/avi")).toBe("video/avi");
    expect(videoContentType("a.mkv", "")).toBe("video/x-matroska");
    expect(videoContentType("a.mov", "application/octet-stream")).toBe("video/quicktime");
    expect(videoContentType("notes.txt", "text/plain")).toBe("application/octet-stream");
  });
});
