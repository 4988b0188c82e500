/**
 * Unit tests of the hostile-input defences (ffmpeg-container/src/ffmpeg/input-checks.ts) and of the input
 * whitelists on every ffprobe/ffmpeg command that reads the upload.
 */
import { describe, expect, it } from "vitest";
import { JobError } from "../../../ffmpeg-container/src/runner/errors.ts";
import { buildExtractArgs, buildPacketIndexArgs, buildSeekExtractArgs } from "../../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { buildProbeArgs, INPUT_FORMAT_WHITELIST } from "../../../ffmpeg-container/src/ffmpeg/input-args.ts";
import { checkContainer, checkProbeLimits, formatDuration, rejectedInputError, sniffContent } from "../../../ffmpeg-container/src/ffmpeg/input-checks.ts";
import { planFromOptions } from "../../../ffmpeg-container/src/jobs/extract/plan/plan.ts";
import type { SourceFacts } from "../../../schema/manifest.ts";

const URL_IN = "http://127.0.0.1:4569/vidsnap-videos/users/u/videos/v/source?X-Amz-Signature=abc";
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("input whitelists", () => {
  it.each([
    ["ffprobe (facts)", buildProbeArgs(URL_IN)],
    ["ffprobe (packet index)", buildPacketIndexArgs(URL_IN, 0)],
    ["ffmpeg (sequential)", buildExtractArgs(URL_IN, 0, planFromOptions({ mode: "keyframes" }))],
    ["ffmpeg (seek)", buildSeekExtractArgs(URL_IN, 0, 10, 10)],
  ])("%s: network protocols only, video demuxers only, no playlist demuxer, before -i", (_, args) => {
    expect(after(args, "-protocol_whitelist")).toBe("http,https,tcp,tls");
    expect(after(args, "-format_whitelist")).toBe(INPUT_FORMAT_WHITELIST);
    expect(args.indexOf("-format_whitelist")).toBeLessThan(args.indexOf("-i"));
    expect(args.indexOf("-protocol_whitelist")).toBeLessThan(args.indexOf("-i"));
  });

  it("the format whitelist holds no playlist, image or raw demuxer", () => {
    const names = INPUT_FORMAT_WHITELIST.split(",");
    for (const bad of ["hls", "dash", "concat", "image2", "png_pipe", "jpeg_pipe", "tty", "lavfi", "data", "file"]) {
      expect(names).not.toContain(bad);
    }
  });
});

describe("formatDuration", () => {
  it("h:mm:ss, rounded down", () => {
    expect(formatDuration(36000)).toBe("10:00:00");
    expect(formatDuration(14400)).toBe("4:00:00");
    expect(formatDuration(200)).toBe("0:03:20");
    expect(formatDuration(59.9)).toBe("0:00:59");
    expect(formatDuration(Number.NaN)).toBe("0:00:00");
  });
});

describe("checkProbeLimits", () => {
  const facts = (over: Partial<SourceFacts>): SourceFacts => ({
    formatName: "mov,mp4,m4a,3gp,3g2,mj2",
    durationSeconds: 10,
    sizeBytes: 1000,
    videoCodec: "h264",
    width: 1920,
    height: 1080,
    frameRate: 25,
    rotationDegrees: 0,
    ...over,
  });
  const limits = { maxDurationSeconds: 14_400, maxPixelsPerFrame: 36_000_000, maxImages: 10_000 };

  it("passes 8K and 4 hours exactly; an unknown duration is left to the decode-time check", () => {
    expect(() => checkProbeLimits(facts({ width: 8192, height: 4320, durationSeconds: 14_400 }), limits)).not.toThrow();
    expect(() => checkProbeLimits(facts({ durationSeconds: null }), limits)).not.toThrow();
  });

  it("names the limit and the value", () => {
    expect(() => checkProbeLimits(facts({ durationSeconds: 36_000 }), limits)).toThrow(JobError);
    expect(() => checkProbeLimits(facts({ durationSeconds: 36_000 }), limits)).toThrow("The video is 10:00:00 long; the limit is 4:00:00.");
    expect(() => checkProbeLimits(facts({ width: 30000, height: 30000 }), limits)).toThrow(
      "The video's frames are 30000x30000 pixels (900 megapixels); the limit is 36 megapixels per frame.",
    );
  });
});

describe("content checks", () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  it("sniffs images, playlists, text and emptiness from the first bytes", () => {
    expect(sniffContent(png)).toEqual({ kind: "image", name: "PNG" });
    expect(sniffContent(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]))).toEqual({ kind: "image", name: "JPEG" });
    expect(sniffContent(Buffer.from("GIF89a\x01\x00", "latin1"))).toEqual({ kind: "image", name: "GIF" });
    expect(sniffContent(Buffer.from("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n"))).toEqual({ kind: "playlist" });
    expect(sniffContent(Buffer.from("ffconcat version 1.0\nfile '/etc/passwd'\n"))).toEqual({ kind: "playlist" });
    expect(sniffContent(Buffer.from("file '/etc/passwd'\n"))).toEqual({ kind: "playlist" });
    expect(sniffContent(Buffer.from('<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">'))).toEqual({ kind: "playlist" });
    expect(sniffContent(Buffer.from("#!/bin/sh\nrm -rf /\n"))).toEqual({ kind: "text" });
    expect(sniffContent(Buffer.alloc(0))).toEqual({ kind: "empty" });
    expect(sniffContent(Buffer.from([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70]))).toBeNull();
  });

  it("explains a refusal from the demuxer ffprobe named, then from the bytes", () => {
    const refused = (demuxer: string) => `[${demuxer} @ 0x55d0] Format not on whitelist 'mov,matroska'\nhttp://x/y: Invalid argument\n`;
    expect(rejectedInputError(refused("hls"), null, "d").message).toBe("Playlists (HLS/DASH/concat) are not accepted.");
    expect(rejectedInputError(refused("dash"), null, "d").message).toBe("Playlists (HLS/DASH/concat) are not accepted.");
    expect(rejectedInputError(refused("concat"), null, "d").message).toBe("Playlists (HLS/DASH/concat) are not accepted.");
    expect(rejectedInputError(refused("png_pipe"), null, "d").message).toBe("The file is a PNG image, not a video.");
    expect(rejectedInputError(refused("image2"), null, "d").message).toBe("The file is an image, not a video.");
    expect(rejectedInputError(refused("mp3"), null, "d").message).toBe("The file is audio only, not a video.");
    expect(rejectedInputError(refused("sbg"), null, "d").message).toBe(
      "The file is not a readable video: its container (sbg) is not an accepted video format.",
    );
    const invalid = "http://x/y: Invalid data found when processing input\n";
    expect(rejectedInputError(invalid, Buffer.from("hello\nworld\n"), "d").message).toBe(
      "The file is a text file (a script, list or document), not a video.",
    );
    expect(rejectedInputError(invalid, png, "d").message).toBe("The file is a PNG image, not a video.");
    expect(rejectedInputError(invalid, null, "d")).toMatchObject({
      message: "The file is not a readable video: invalid data found when processing input",
      description: "d",
    });
  });

  it("checkContainer accepts whitelisted demuxers only", () => {
    expect(() => checkContainer("mov,mp4,m4a,3gp,3g2,mj2")).not.toThrow();
    expect(() => checkContainer("matroska,webm")).not.toThrow();
    expect(() => checkContainer("hls")).toThrow(/container \(hls\)/);
  });
});
