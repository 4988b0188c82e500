/**
 * The dashboard's pure helpers (web/src), run on Node without a browser: the file check before an upload
 * (allow-list of schema/video-types.ts, declared MIME type), client-side routes, and the formatting of
 * timestamps, sizes and options shown next to every video and image, and of the renditions (request summary,
 * progress with speed and ETA, heights field).
 */
import { describe, expect, it } from "vitest";
import { UploadError } from "../../client/src/upload-protocol.ts";
import { checkFile } from "../../web/src/upload.ts";
import { parseRoute } from "../../web/src/router.ts";
import { formatBytes, formatTimestamp } from "../../web/src/dom.ts";
import { describeOptions, isFinal, STATUS_LABELS } from "../../web/src/status.ts";
import { VideoStatus } from "../../schema/video-status.ts";
import { describeTranscodeRequest, outputCount, parseHeights, transcodeProgressText } from "../../web/src/views/transcodes.ts";

const file = (name: string, type: string, size = 10) => new File([new Uint8Array(size)], name, { type });

describe("checkFile", () => {
  it("keeps the browser's type when the allow-list has it for the extension", () => {
    expect(checkFile(file("a.avi", "video/avi"))).toBe("video/avi");
    expect(checkFile(file("a.M4V", "video/mp4"))).toBe("video/mp4");
  });

  it("falls back to the extension's first type when the browser reports none or another", () => {
    expect(checkFile(file("clip.mkv", ""))).toBe("video/x-matroska");
    expect(checkFile(file("clip.mov", "application/octet-stream"))).toBe("video/quicktime");
  });

  it("refuses other extensions, files without one, and empty files", () => {
    expect(() => checkFile(file("notes.txt", "text/plain"))).toThrow(UploadError);
    expect(() => checkFile(file("video", "video/mp4"))).toThrow(/not a supported video/);
    expect(() => checkFile(file("empty.mp4", "video/mp4", 0))).toThrow(/empty/);
  });
});

describe("parseRoute", () => {
  it("maps the dashboard's paths, trailing slash or not", () => {
    expect(parseRoute("/")).toEqual({ name: "videos" });
    expect(parseRoute("/videos/0f8b-7c8e/")).toEqual({ name: "video", id: "0f8b-7c8e" });
    expect(parseRoute("/videos/a%20b")).toEqual({ name: "video", id: "a b" });
    expect(parseRoute("/api-keys")).toEqual({ name: "api-keys" });
    expect(parseRoute("/webhooks")).toEqual({ name: "webhooks" });
    expect(parseRoute("/sign-in")).toEqual({ name: "sign-in" });
    expect(parseRoute("/videos/a/b")).toEqual({ name: "not-found" });
    expect(parseRoute("/v1/videos")).toEqual({ name: "not-found" });
  });
});

describe("formatting", () => {
  it("writes timestamps as m:ss.mmm, with hours past one hour", () => {
    expect(formatTimestamp(0)).toBe("0:00.000");
    expect(formatTimestamp(12.5)).toBe("0:12.500");
    expect(formatTimestamp(190)).toBe("3:10.000");
    expect(formatTimestamp(3723.0004)).toBe("1:02:03.000");
  });

  it("writes sizes in SI units", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(4307)).toBe("4.3 kB");
    expect(formatBytes(3_387_403)).toBe("3.4 MB");
    expect(formatBytes(104_857_600)).toBe("105 MB");
    expect(formatBytes(null)).toBe("–");
  });

  it("describes every extraction mode", () => {
    expect(describeOptions({ mode: "keyframes" })).toBe("keyframes · jpeg");
    expect(describeOptions({ mode: "interval", intervalSeconds: 10, format: "webp", maxWidth: 640 })).toBe("every 10 s · webp · ≤ 640 px wide");
    expect(describeOptions({ mode: "scene" })).toBe("scene changes · jpeg");
    expect(describeOptions({ mode: "timestamps", timestampsSeconds: [1, 2] })).toBe("2 timestamps · jpeg");
  });

  it("labels every status; only success and the errors (extraction, import, generation) are final", () => {
    for (const status of VideoStatus.options) expect(STATUS_LABELS[status]).toBeTruthy();
    expect(VideoStatus.options.filter(isFinal)).toEqual([
      "VIDEO_IMAGE_EXTRACTION_SUCCESS",
      "VIDEO_IMAGE_EXTRACTION_ERROR",
      "VIDEO_IMPORT_ERROR",
      "VIDEO_GENERATION_ERROR",
    ]);
  });
});

describe("renditions", () => {
  it("summarises a request, the progress with speed and ETA, and what a transcode made", () => {
    expect(describeTranscodeRequest({ renditions: [{ format: "mp4", height: 720 }, { format: "webm" }, { format: "hls", heights: [720, 480] }], endSeconds: 60 })).toBe(
      "MP4 720p, WebM source, HLS 720/480p · 0–60 s",
    );
    expect(describeTranscodeRequest({ renditions: [{ format: "hls" }] })).toBe("HLS ladder");
    expect(transcodeProgressText({ status: "TRANSCODE_PROCESSING", progress: 0.424, speed: 2.31, etaSeconds: 12.2 })).toBe("42 % · 2.3× real time · 0:13 left");
    expect(transcodeProgressText({ status: "TRANSCODE_PROCESSING", progress: null, speed: null, etaSeconds: null })).toBe("0 %");
    expect(transcodeProgressText({ status: "TRANSCODE_QUEUED", progress: null, speed: null, etaSeconds: null })).toBe("Waiting for the processor…");
    const output = (rendition: string, format: "mp4" | "webm" | "hls") => ({ rendition, format }) as never;
    expect(outputCount({ outputs: [output("mp4-240", "mp4"), output("hls", "hls"), output("hls-240", "hls")] })).toBe("1 file + HLS (1 variant)");
    expect(outputCount({ outputs: [output("mp4-720", "mp4"), output("webm-480", "webm")] })).toBe("2 files");
  });

  it("reads the heights field; leaves the bounds to the API", () => {
    expect(parseHeights("720, 480p 360")).toEqual([720, 480, 360]);
    expect(parseHeights(" ")).toEqual([]);
    expect(parseHeights("999")).toEqual([999]);
    expect(parseHeights("720,big")).toBeNull();
  });
});
