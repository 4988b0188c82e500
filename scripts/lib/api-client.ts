/**
 * A small REST client of the vidsnap API, used by the demo and the end-to-end test. Types come from
 * the shared schema (schema/api.ts), so a change of the API shape breaks this at compile time.
 */
import { createReadStream, createWriteStream, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import type { ExtractionOptions } from "../../schema/extraction-options.ts";
import type { VideoStatus } from "../../schema/video-status.ts";

/** The parts of `Video` (schema/api.ts) the scripts read. */
export interface VideoView {
  id: string;
  filename: string;
  status: VideoStatus;
  attempt: number;
  progress: number | null;
  imageCount: number | null;
  zipSizeBytes: number | null;
  errorMessage: string | null;
  errorDescription: string | null;
}

export interface UploadInstructions {
  method: "PUT";
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}

export interface ImageListView {
  imageCount: number;
  images: { index: number; fileName: string; timestampSeconds: number; bytes: number }[];
  zip: { url: string; expiresAt: string; sizeBytes: number };
}

/** An API answer that was not 2xx, with its problem details body when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { type?: string; title?: string; detail?: string } | undefined,
    message: string,
  ) {
    super(message);
  }
}

export const MIME_BY_EXTENSION: Record<string, string> = {
  mp4: "video/mp4", m4v: "video/x-m4v", mov: "video/quicktime", mkv: "video/x-matroska",
  webm: "video/webm", avi: "video/x-msvideo", mpg: "video/mpeg", mpeg: "video/mpeg",
  ts: "video/mp2t", ogv: "video/ogg", ogg: "video/ogg",
};

export class VidsnapClient {
  token: string | undefined;
  constructor(readonly baseUrl: string, token?: string) {
    this.token = token;
  }

  private async call<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    const res = await this.raw(method, path, body, init);
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      throw new ApiError(res.status, json, `${method} ${path} → ${res.status} ${json?.title ?? ""} ${json?.detail ?? json?.message ?? ""}`.trim());
    }
    return json as T;
  }

  /** One request; the bearer token is added when the client has one. */
  raw(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token) headers.set("authorization", `Bearer ${this.token}`);
    if (body !== undefined) headers.set("content-type", "application/json");
    return fetch(this.baseUrl + path, {
      ...init,
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** Signs up, or signs in when the account exists; keeps the bearer token. */
  async signUpOrIn(email: string, password: string, name: string): Promise<void> {
    const up = await this.raw("POST", "/api/auth/sign-up/email", { email, password, name });
    let res = up;
    if (!up.ok) {
      await up.body?.cancel();
      res = await this.raw("POST", "/api/auth/sign-in/email", { email, password });
    }
    const token = res.headers.get("set-auth-token");
    if (!res.ok || !token) throw new ApiError(res.status, undefined, `sign-in failed: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
    this.token = token;
  }

  createVideo(input: { filename: string; contentType: string; sizeBytes: number; options?: ExtractionOptions }) {
    return this.call<{ video: VideoView; upload: UploadInstructions }>("POST", "/v1/videos", input);
  }
  complete(id: string) {
    return this.call<{ video: VideoView }>("POST", `/v1/videos/${id}/complete`);
  }
  getVideo(id: string) {
    return this.call<{ video: VideoView }>("GET", `/v1/videos/${id}`);
  }
  listVideos(query = "") {
    return this.call<{ data: VideoView[]; nextCursor: string | null }>("GET", `/v1/videos${query}`);
  }
  images(id: string) {
    return this.call<ImageListView>("GET", `/v1/videos/${id}/images`);
  }
  retry(id: string) {
    return this.call<{ video: VideoView }>("POST", `/v1/videos/${id}/retry`);
  }

  /** Polls the video until it leaves the queued/processing states (or `timeoutMs` passes). */
  async waitForOutcome(id: string, onProgress?: (v: VideoView) => void, timeoutMs = 300_000): Promise<VideoView> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 250; Date.now() < deadline; delay = Math.min(delay * 1.5, 2_000)) {
      const { video } = await this.getVideo(id);
      onProgress?.(video);
      if (video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" || video.status === "VIDEO_IMAGE_EXTRACTION_ERROR") return video;
      await new Promise((r) => setTimeout(r, delay));
    }
    throw new Error(`video ${id} still not done after ${timeoutMs / 1000} s`);
  }

  /** Downloads the ZIP by following `GET /v1/videos/{id}/images.zip` (302 to a presigned URL) into `file`. */
  async downloadZip(id: string, file: string): Promise<number> {
    const redirect = await this.raw("GET", `/v1/videos/${id}/images.zip`, undefined, { redirect: "manual" });
    const location = redirect.headers.get("location");
    await redirect.body?.cancel();
    if (redirect.status !== 302 || !location) throw new ApiError(redirect.status, undefined, `images.zip → ${redirect.status}`);
    const res = await fetch(location);
    if (!res.ok || !res.body) throw new ApiError(res.status, undefined, `ZIP download → ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(file));
    return statSync(file).size;
  }
}

/**
 * Streams `file` to a presigned PUT URL with the headers the URL was signed with (content-type and
 * content-length are part of the signature). Reports bytes sent through `onProgress`.
 * @throws Error when the storage answers non-2xx (e.g. 403 SignatureDoesNotMatch, expired URL)
 */
export function uploadFile(
  upload: UploadInstructions,
  file: string,
  onProgress?: (sentBytes: number, totalBytes: number) => void,
): Promise<void> {
  const total = statSync(file).size;
  const url = new URL(upload.url);
  const request = (url.protocol === "https:" ? https : http).request;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: upload.method, headers: upload.headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c));
      res.on("end", () =>
        res.statusCode && res.statusCode < 300 ? resolve() : reject(new Error(`upload → ${res.statusCode}: ${body.slice(0, 300)}`)),
      );
    });
    req.on("error", reject);
    let sent = 0;
    const stream = createReadStream(file);
    stream.on("data", (c) => {
      sent += c.length;
      onProgress?.(sent, total);
    });
    stream.on("error", reject);
    stream.pipe(req);
  });
}
